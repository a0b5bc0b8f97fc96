import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import { characterCount, Empty, TooLong, validateOptionalText, validateText } from "../../src/domain/Validation.ts"

describe("Validation", () => {
  it("validateText - returns the trimmed text", () => {
    assert.deepStrictEqual(validateText("  hello world \n", 20), Result.succeed("hello world"))
    assert.deepStrictEqual(validateText("line one\n\nline two", 20), Result.succeed("line one\n\nline two"))
  })

  it("validateText - empty, whitespace-only and invisible-only texts fail Empty", () => {
    const blanks = ["", " ", "\n\t  \r\n", "\u00A0\u2003", "\u200B\u200D\uFEFF", "\u3164", "\u2800 \u2800", "\u0000"]
    for (const text of blanks) {
      assert.deepStrictEqual(validateText(text, 100), Result.fail(new Empty()), JSON.stringify(text))
    }
  })

  it("validateText - the limit is inclusive and measured after trimming", () => {
    assert.deepStrictEqual(validateText("abcde", 5), Result.succeed("abcde"))
    assert.deepStrictEqual(validateText("   abcde   ", 5), Result.succeed("abcde"))
    assert.deepStrictEqual(validateText("abcdef", 5), Result.fail(new TooLong({ length: 6, maxLength: 5 })))
  })

  it("validateText - counts UTF-16 units, as Telegram does: an emoji outside the BMP counts 2", () => {
    const emoji = "😀".repeat(5) // 10 UTF-16 units
    assert.deepStrictEqual(validateText(emoji, 10), Result.succeed(emoji))
    assert.deepStrictEqual(validateText(emoji, 9), Result.fail(new TooLong({ length: 10, maxLength: 9 })))
    // The report that motivated the rule: 3,500 "😀" are 7,000 units, far beyond a 3,500 limit.
    assert.deepStrictEqual(
      validateText("😀".repeat(3500), 3500),
      Result.fail(new TooLong({ length: 7000, maxLength: 3500 }))
    )
    assert.deepStrictEqual(validateText("😀".repeat(1750), 3500), Result.succeed("😀".repeat(1750)))
  })

  it("validateText - drops NUL characters, which PostgreSQL text cannot hold", () => {
    assert.deepStrictEqual(validateText("a\u0000b", 5), Result.succeed("ab"))
    assert.deepStrictEqual(validateText("\u0000".repeat(10) + "abc", 3), Result.succeed("abc"))
  })

  it("validateText - unpaired surrogates become U+FFFD, one unit for one unit; pairs are kept", () => {
    const cases: ReadonlyArray<readonly [string, string]> = [
      ["a\ud800b", "a\uFFFDb"],
      ["a\udc00b", "a\uFFFDb"],
      ["\ud800", "\uFFFD"],
      ["x\udbff", "x\uFFFD"],
      ["\udc00\ud800", "\uFFFD\uFFFD"], // low before high: not a pair
      ["😀\ud83d", "😀\uFFFD"],
      ["😀", "😀"]
    ]
    for (const [text, expected] of cases) {
      assert.deepStrictEqual(validateText(text, 10), Result.succeed(expected), JSON.stringify(text))
      assert.strictEqual(characterCount(expected), text.length)
    }
  })

  it("validateOptionalText - blank is an empty text, not a failure; the limit still applies", () => {
    const cases: ReadonlyArray<readonly [string | undefined, Result.Result<string, TooLong>]> = [
      [undefined, Result.succeed("")],
      ["", Result.succeed("")],
      ["  \u200B ", Result.succeed("")],
      ["\u0000", Result.succeed("")],
      ["  a cap ", Result.succeed("a cap")],
      ["abcde", Result.succeed("abcde")],
      ["abcdef", Result.fail(new TooLong({ length: 6, maxLength: 5 }))],
      ["😀😀😀", Result.fail(new TooLong({ length: 6, maxLength: 5 }))]
    ]
    for (const [text, expected] of cases) {
      assert.deepStrictEqual(validateOptionalText(text, 5), expected, JSON.stringify(text))
    }
  })

  it("validateText - keeps markup exactly as typed (escaping is the view's job)", () => {
    assert.deepStrictEqual(validateText("<b>&amp;</b>", 50), Result.succeed("<b>&amp;</b>"))
  })

  it("characterCount - UTF-16 units, the unit of Telegram's limits", () => {
    const cases: ReadonlyArray<readonly [string, number]> = [
      ["", 0],
      ["abc", 3],
      ["héllo", 5], // precomposed é: one unit
      ["he\u0301llo", 6], // e + combining accent: two
      ["😀", 2],
      ["👍🏽", 4], // base + skin tone modifier, both outside the BMP
      ["🇺🇦", 4],
      ["👨‍👩‍👧", 8],
      ["日本語", 3],
      ["𝕏", 2],
      ["\ud800", 1]
    ]
    for (const [text, expected] of cases) assert.strictEqual(characterCount(text), expected, text)
  })
})
