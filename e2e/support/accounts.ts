/** The admin account the e2e server makes at start (playwright.config.ts passes it as LABFORGE_ADMIN_*). */
export const ADMIN = { email: 'admin@e2e.example.org', password: 'e2e admin password' };
