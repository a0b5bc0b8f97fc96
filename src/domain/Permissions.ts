// Who may do what: admins are the configured ADMIN_IDS, and a blocked user may not confess, comment or react.
// Pure; the features ask these before calling a service, and the services re-check what the database knows.

export const isAdmin = (adminIds: ReadonlyArray<number>, userId: number): boolean => adminIds.includes(userId)

export const canParticipate = (user: { readonly blocked: boolean }): boolean => !user.blocked
