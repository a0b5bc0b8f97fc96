import { assert, describe, it } from "@effect/vitest"
import * as Paging from "../../src/domain/Paging.ts"

describe("Paging", () => {
  it("clampPage - 23 items at 5 per page make 5 pages", () => {
    const cases: ReadonlyArray<readonly [page: number, expected: Paging.PageWindow]> = [
      [1, { page: 1, totalPages: 5, offset: 0 }],
      [2, { page: 2, totalPages: 5, offset: 5 }],
      [5, { page: 5, totalPages: 5, offset: 20 }],
      [6, { page: 5, totalPages: 5, offset: 20 }],
      [9999, { page: 5, totalPages: 5, offset: 20 }]
    ]
    for (const [page, expected] of cases) assert.deepStrictEqual(Paging.clampPage(page, 23, 5), expected, `page ${page}`)
  })

  it("clampPage - forged page numbers never leave 1..totalPages", () => {
    const cases: ReadonlyArray<readonly [page: number, expected: number]> = [
      [0, 1],
      [-1, 1],
      [-9_007_199_254_740_991, 1],
      [Number.NaN, 1],
      [Number.NEGATIVE_INFINITY, 1],
      [Number.POSITIVE_INFINITY, 3],
      [Number.MAX_SAFE_INTEGER, 3],
      [1e308, 3],
      [2.7, 2],
      [-0.5, 1]
    ]
    for (const [page, expected] of cases) {
      const window = Paging.clampPage(page, 11, 5)
      assert.strictEqual(window.page, expected, `page ${page}`)
      assert.strictEqual(window.totalPages, 3)
      assert.strictEqual(window.offset, (expected - 1) * 5)
    }
  })

  it("clampPage - an empty list still has one page", () => {
    assert.deepStrictEqual(Paging.clampPage(3, 0, 5), { page: 1, totalPages: 1, offset: 0 })
    assert.deepStrictEqual(Paging.clampPage(1, -4, 5), { page: 1, totalPages: 1, offset: 0 })
    assert.deepStrictEqual(Paging.clampPage(1, Number.NaN, 5), { page: 1, totalPages: 1, offset: 0 })
  })

  it("clampPage - exact multiples do not add an empty page", () => {
    assert.deepStrictEqual(Paging.clampPage(99, 10, 5), { page: 2, totalPages: 2, offset: 5 })
    assert.deepStrictEqual(Paging.clampPage(1, 5, 5), { page: 1, totalPages: 1, offset: 0 })
  })

  it("normalizePageSize - forged sizes become 1..MaxPageSize", () => {
    const cases: ReadonlyArray<readonly [size: number, expected: number]> = [
      [5, 5],
      [0, 1],
      [-3, 1],
      [Number.NaN, 1],
      [Number.NEGATIVE_INFINITY, 1],
      [Number.POSITIVE_INFINITY, Paging.MaxPageSize],
      [1e9, Paging.MaxPageSize],
      [4.9, 4]
    ]
    for (const [size, expected] of cases) assert.strictEqual(Paging.normalizePageSize(size), expected, `size ${size}`)
    assert.deepStrictEqual(Paging.clampPage(2, 10, 0), { page: 2, totalPages: 10, offset: 1 })
  })

  it("normalizePage - stays within the int4 range SQL accepts", () => {
    assert.strictEqual(Paging.normalizePage(Number.MAX_SAFE_INTEGER), Paging.MaxPage)
    assert.strictEqual(Paging.normalizePage(Number.POSITIVE_INFINITY), Paging.MaxPage)
    assert.strictEqual(Paging.normalizePage(Number.NaN), 1)
    assert.strictEqual(Paging.normalizePage(-7), 1)
    assert.strictEqual(Paging.normalizePage(42), 42)
  })
})
