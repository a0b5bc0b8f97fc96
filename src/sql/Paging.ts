// The one paging fragment: a list's count and its clamped page in the same statement as its rows, by the rule of
// `domain/Paging.ts clampPage`, so a forged page number never costs a second round trip.
import type { SqlClient, Statement } from "effect/sql"
import * as Paging from "../domain/Paging.ts"

/** A normalized request: the page asked for (1..MaxPage) and the page size (1..MaxPageSize). */
export interface Window {
  readonly requested: number
  readonly size: number
}

export const windowOf = (request: Paging.PageRequest, defaultSize: number): Window => ({
  requested: Paging.normalizePage(request.page),
  size: Paging.normalizePageSize(request.pageSize ?? defaultSize)
})

/**
 * Two CTEs for a `with` clause: `total(n)`, the rows of `counted` (a `from` target such as
 * `` sql`comments where …` ``), and `shown(page)`, the requested page clamped to `1..last page`.
 */
export const totalAndShown = (sql: SqlClient.SqlClient, window: Window, counted: Statement.Fragment): Statement.Fragment =>
  sql`total as (
    select count(*)::int as n from ${counted}
  ), shown as (
    select least(${window.requested}::int, greatest(ceil(n / ${window.size}::numeric)::int, 1)) as page from total
  )`

/** `limit … offset …` of the shown page; the statement must have `shown` in scope. */
export const shownSlice = (sql: SqlClient.SqlClient, window: Window): Statement.Fragment =>
  sql`limit ${window.size}::int offset (shown.page - 1) * ${window.size}::int`

/**
 * A whole paged list in one statement: every row of the shown page of `from` in `orderBy` order, each with the list's
 * `total`. `from` is a `from` target (a table with its `where`, or a parenthesised subquery with an alias).
 */
export const list = (
  sql: SqlClient.SqlClient,
  window: Window,
  parts: { readonly from: Statement.Fragment; readonly orderBy: Statement.Fragment }
) =>
  sql`
    with ${totalAndShown(sql, window, parts.from)}
    select listed.*, total.n as total
    from total cross join shown
    cross join lateral (
      select * from ${parts.from} order by ${parts.orderBy} ${shownSlice(sql, window)}
    ) as listed
    order by ${parts.orderBy}`

/** The page of `items` a window shows in a list of `total`. */
export const pageOf = <A>(window: Window, total: number, items: ReadonlyArray<A>): Paging.Page<A> => {
  const shown = Paging.clampPage(window.requested, total, window.size)
  return { items, page: shown.page, totalPages: shown.totalPages, total }
}
