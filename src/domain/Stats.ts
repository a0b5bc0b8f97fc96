// The admins' system numbers (`/stats`), as one statistics query returns them.

export interface SystemStats {
  readonly users: number
  readonly confessionsPending: number
  readonly confessionsApproved: number
  readonly confessionsRejected: number
  readonly confessionsDeleted: number
  readonly comments: number
  readonly reactions: number
  readonly last24h: {
    readonly newUsers: number
    readonly activeUsers: number
    readonly confessions: number
    readonly comments: number
    readonly reactions: number
  }
}
