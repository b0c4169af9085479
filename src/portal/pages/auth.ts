import { LoginBody, SignupBody } from "../../api/accounts";
import { MIN_PASSWORD_LENGTH } from "../../auth/password-rules";
import { login, logout, signup } from "../../auth/sessions";
import { createContext } from "../../context";
import { AppError } from "../../errors";
import { htmlResponse, redirect, safeNext, teamCookieName, type PublicRequest, type Route, type SignedInRequest } from "../app";
import { field, formError, text, zodFieldErrors, type FieldErrors } from "../forms";
import { html } from "../html";
import { csrfField, layout } from "../layout";
import { clearSessionCookie, sessionCookie, setCookie } from "../session";
import { noticeFor } from "./common";

/** Sign in, sign up, sign out, and the team switcher: the accounts API's own functions behind forms. */
const anonymous = (r: PublicRequest) =>
  createContext({ requestId: r.requestId, env: r.env, actor: { type: "anonymous" as const }, clientAddress: r.request.headers.get("cf-connecting-ip") ?? undefined });

async function loginPage(r: PublicRequest, values: { email?: string; next: string }, errors?: FieldErrors, status = 200) {
  const body = html`<div class="card narrow">
<h1>Sign in</h1>
${formError(errors)}
<form method="post" action="/portal/login" novalidate>
  ${csrfField(r.csrf)}
  <input type="hidden" name="next" value="${values.next}">
  ${field({ name: "email", label: "Email", type: "email", value: values.email, required: true, autocomplete: "username", errors })}
  ${field({ name: "password", label: "Password", type: "password", required: true, autocomplete: "current-password", errors })}
  <button type="submit">Sign in</button>
</form>
<p>No account? <a href="/portal/signup">Create one</a>.</p>
</div>`;
  return htmlResponse(await layout({ title: "Sign in", notice: noticeFor(r.url) }, body), status);
}

async function signupPage(r: PublicRequest, values: { email?: string; teamName?: string }, errors?: FieldErrors, status = 200) {
  const body = html`<div class="card narrow">
<h1>Create an account</h1>
${formError(errors)}
<form method="post" action="/portal/signup" novalidate>
  ${csrfField(r.csrf)}
  ${field({ name: "email", label: "Email", type: "email", value: values.email, required: true, autocomplete: "username", errors })}
  ${field({ name: "password", label: "Password", type: "password", required: true, autocomplete: "new-password", hint: `At least ${MIN_PASSWORD_LENGTH} characters.`, errors })}
  ${field({ name: "teamName", label: "Team name", value: values.teamName, required: true, autocomplete: "organization", errors })}
  <button type="submit">Create account</button>
</form>
<p>Have an account? <a href="/portal/login">Sign in</a>.</p>
</div>`;
  return htmlResponse(await layout({ title: "Create an account" }, body), status);
}

export const authRoutes: Route[] = [
  {
    method: "GET",
    path: "/portal",
    auth: "public",
    handler: async (r) => redirect(r.user ? "/portal/vault" : "/portal/login"),
  },
  {
    method: "GET",
    path: "/portal/login",
    auth: "public",
    handler: async (r) => {
      const next = safeNext(r.url.searchParams.get("next"));
      if (r.user) return redirect(next);
      return loginPage(r, { next });
    },
  },
  {
    method: "POST",
    path: "/portal/login",
    auth: "public",
    handler: async (r) => {
      const next = safeNext(text(r.form, "next"));
      const email = text(r.form, "email");
      const parsed = LoginBody.safeParse({ email, password: text(r.form, "password") });
      if (!parsed.success) return loginPage(r, { email, next }, zodFieldErrors(parsed.error), 400);
      try {
        const { token } = await login(anonymous(r), parsed.data);
        return redirect(next, { "set-cookie": sessionCookie(r.url, token) });
      } catch (error) {
        if (error instanceof AppError && error.status < 500) return loginPage(r, { email, next }, { form: error.message }, error.status);
        throw error;
      }
    },
  },
  {
    method: "GET",
    path: "/portal/signup",
    auth: "public",
    handler: async (r) => (r.user ? redirect("/portal/vault") : signupPage(r, {})),
  },
  {
    method: "POST",
    path: "/portal/signup",
    auth: "public",
    handler: async (r) => {
      const values = { email: text(r.form, "email"), teamName: text(r.form, "teamName") };
      const parsed = SignupBody.safeParse({ ...values, password: text(r.form, "password") });
      if (!parsed.success) return signupPage(r, values, zodFieldErrors(parsed.error), 400);
      try {
        const { token } = await signup(anonymous(r), parsed.data);
        return redirect("/portal/vault", { "set-cookie": sessionCookie(r.url, token) });
      } catch (error) {
        if (error instanceof AppError && error.status < 500) return signupPage(r, values, error.code === "email_taken" ? { email: error.message } : { form: error.message }, error.status);
        throw error;
      }
    },
  },
  {
    // Public so that a user without a team can sign out too; the CSRF token is bound to the user.
    method: "POST",
    path: "/portal/logout",
    auth: "public",
    handler: async (r) => {
      if (r.user) {
        const actor = { type: "user" as const, id: r.user.userId, email: r.user.email };
        await logout(createContext({ requestId: r.requestId, env: r.env, actor }));
      }
      const response = redirect("/portal/login?done=signed-out");
      response.headers.append("set-cookie", clearSessionCookie(r.url));
      response.headers.append("set-cookie", setCookie(r.url, teamCookieName(r.url), "", 0));
      return response;
    },
  },
  {
    method: "POST",
    path: "/portal/team",
    auth: "user",
    handler: async (r: SignedInRequest) => {
      const team = text(r.form, "team");
      if (!r.teams.some((t) => t.id === team)) throw new AppError("access_denied");
      return redirect("/portal/vault?done=team-switched", { "set-cookie": setCookie(r.url, teamCookieName(r.url), team, 400 * 86400) });
    },
  },
];
