import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import { characterCount, Empty, TooLong, validateText } from "../../src/domain/Validation.ts"

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

  it("validateText - counts code points, not UTF-16 units", () => {
    const emoji = "😀".repeat(5) // 10 UTF-16 units
    assert.strictEqual(emoji.length, 10)
    assert.deepStrictEqual(validateText(emoji, 5), Result.succeed(emoji))
    assert.deepStrictEqual(validateText(emoji + "😀", 5), Result.fail(new TooLong({ length: 6, maxLength: 5 })))
  })

  it("validateText - drops NUL characters, which PostgreSQL text cannot hold", () => {
    assert.deepStrictEqual(validateText("a\u0000b", 5), Result.succeed("ab"))
  })

  it("validateText - keeps markup exactly as typed (escaping is the view's job)", () => {
    assert.deepStrictEqual(validateText("<b>&amp;</b>", 50), Result.succeed("<b>&amp;</b>"))
  })

  it("characterCount - table", () => {
    const cases: ReadonlyArray<readonly [string, number]> = [
      ["", 0],
      ["abc", 3],
      ["héllo", 5],
      ["😀", 1],
      ["👍🏽", 2], // base + skin tone modifier: two code points
      ["日本語", 3]
    ]
    for (const [text, expected] of cases) assert.strictEqual(characterCount(text), expected, text)
  })
})
