// Pure paging rules shared by every list the bot shows: which page a (possibly forged) page number really means.
// Pages are numbered from 1; every list has at least one page, even when it is empty.

/** The largest page number we pass on to SQL (int4), whatever a forged callback asked for. */
export const MaxPage = 2_147_483_647

/** The largest page size a caller may ask for; views show a handful of comments at a time. */
export const MaxPageSize = 50

/** Which slice of a list to show: `page` is 1-based and always within `1..totalPages`. */
export interface PageWindow {
  readonly page: number
  readonly totalPages: number
  /** Rows to skip: `(page - 1) * pageSize`. */
  readonly offset: number
}

/** Any number to a page size in `1..MaxPageSize` (NaN, negative and fractional sizes included). */
export const normalizePageSize = (pageSize: number): number =>
  Number.isFinite(pageSize) ? Math.min(Math.max(Math.trunc(pageSize), 1), MaxPageSize) : pageSize > 0 ? MaxPageSize : 1

/**
 * Any number to a page number in `1..MaxPage` before the list's length is known: NaN and anything below 1 mean the
 * first page, +Infinity and anything huge mean "the last page" (SQL then clamps to the real last page).
 */
export const normalizePage = (page: number): number =>
  Number.isNaN(page) ? 1 : page === Infinity ? MaxPage : Math.min(Math.max(Math.trunc(page), 1), MaxPage)

/** The page to show for a requested `page` of a list with `totalItems` items, `pageSize` per page. */
export const clampPage = (page: number, totalItems: number, pageSize: number): PageWindow => {
  const size = normalizePageSize(pageSize)
  const total = Number.isFinite(totalItems) && totalItems > 0 ? Math.trunc(totalItems) : 0
  const totalPages = Math.max(1, Math.ceil(total / size))
  const shown = Math.min(normalizePage(page), totalPages)
  return { page: shown, totalPages, offset: (shown - 1) * size }
}

/** One page of a list, as the services return it. */
export interface Page<A> {
  readonly items: ReadonlyArray<A>
  /** 1-based, always within `1..totalPages`. */
  readonly page: number
  readonly totalPages: number
  /** Items in the whole list. */
  readonly total: number
}

/** What a caller asks for: anything a callback may carry (negative, zero, fractional or huge numbers are clamped). */
export interface PageRequest {
  readonly page: number
  /** The list's default when absent; clamped to `1..MaxPageSize`. */
  readonly pageSize?: number | undefined
}
