/** Account roles: an admin manages accounts; both see and act on every lab's sessions and analytics. */
export const ROLES = ['instructor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Whether `have` grants what `need` asks for (admin ⊇ instructor). */
export const grants = (have: Role, need: Role) => ROLES.indexOf(have) >= ROLES.indexOf(need);

/** A signed-in instructor or admin, as pages and routes act with it. */
export interface Instructor {
  id: string;
  email: string;
  name: string;
  role: Role;
}
