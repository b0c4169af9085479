/** Fixed test-only secrets (never used outside tests). */
export const TEST_MASTER_KEY_V1 = "8f3c2a61d94be07512c6a8e3f09d4b7a2e5c81f6b3d0a9e74c2f18b6d5e3a907";
export const TEST_MASTER_KEY_V2 = "Lr1nW0x8b6M3n9QeX2vK7pT4yZ5aC8dF1gH3jK6mN9o="; // base64, 32 bytes
export const TEST_ADMIN_TOKEN = "tvadm_test_0123456789abcdef0123456789abcdef";
/** A canary secret: tests search for it everywhere it must never appear. */
export const CANARY = "sk-canary-7Qz9XwR2vL4pN8mK3jH6gF1dS5aZ0yT";
export const TEST_JWT_SECRET = "test-jwt-secret-0123456789abcdef0123456789abcdef";
/** The key of API keys' checksums in the Workers pool (64 hex characters). */
export const TEST_API_KEY_SECRET = "3b9d0e6f2a7c41d8b5e0f93a6c2d7e18f4a0b5c9d3e7f1a2b6c0d4e8f2a5b9c3";
