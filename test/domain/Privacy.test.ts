import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import {
  describeProblem,
  DuplicateName,
  InvalidName,
  InvalidRegex,
  isBuiltIn,
  type Kind,
  MalformedEntry,
  MatchesEmpty,
  type Pattern,
  parsePatterns,
  type PatternProblem,
  scan,
  UnsafeRegex
} from "../../src/domain/Privacy.ts"

/** Texts and the kinds `scan` must report for them, with the built-in rules only. */
const positives: ReadonlyArray<readonly [string, ReadonlyArray<Kind>]> = [
  // phone numbers: international and local, every separator
  ["call me +1 202 555 0173", ["phone"]],
  ["+1-202-555-0173", ["phone"]],
  ["+1 (202) 555-0173", ["phone"]],
  ["+7 (900) 123-45-67", ["phone"]],
  ["+7(900)1234567", ["phone"]],
  ["+44 20 7946 0958", ["phone"]],
  ["+49 30 1234567", ["phone"]],
  ["+380501234567", ["phone"]],
  ["8 800 555 35 35", ["phone"]],
  ["8-900-123-45-67", ["phone"]],
  ["(202) 555-0173", ["phone"]],
  ["202.555.0173", ["phone"]],
  ["202 555 0173", ["phone"]],
  ["555-1234 is her number", ["phone"]],
  ["555.1234", ["phone"]],
  ["123-45-67", ["phone"]],
  ["5551234", ["phone"]],
  ["020 7946 0958", ["phone"]],
  ["06 12 34 56 78", ["phone"]],
  ["612 345 678", ["phone"]],
  ["030/1234567", ["phone"]],
  ["555 - 1234 - 567", ["phone"]],
  ["tel:+15551234567", ["phone"]],
  ["Phone:5551234567", ["phone"]],
  ["tel. 555 1234", ["phone"]],
  ["her number (555) 123-4567.", ["phone"]],
  ["at 12:30 call 555 1234", ["phone"]],
  ["on 01.05.2024 she gave me 555-12-34", ["phone"]],
  ["in 2024 i got +7 900 123 45 67", ["phone"]],
  ["５５５ １２３４ ５６７", ["phone"]], // fullwidth digits
  ["555\u200B1234\u200B567", ["phone"]], // zero-width spaces between the digits
  ["+1 202 555 0173 and +1 202 555 0174", ["phone"]], // each kind once
  // e-mail addresses
  ["write to anna.k@gmail.com please", ["email"]],
  ["first.last+tag@sub.uni.edu.ru", ["email"]],
  ["ivan_petrov@mail.ru.", ["email"]], // the sentence's full stop is not part of it
  ["ivan@почта.рф", ["email"]],
  ["(me@example.org)", ["email"]],
  ["ANNA@EXAMPLE.COM", ["email"]],
  ["anna＠example.com", ["email"]], // fullwidth @
  // @usernames
  ["ask @anna_k about it", ["username"]],
  ["@Anna2", ["username"]],
  ["(@durov)", ["username"]],
  ["hi @abcde", ["username"]],
  ["@" + "a".repeat(32), ["username"]],
  ["thanks @john_doe!", ["username"]],
  ["@john_doe, @jane_doe", ["username"]],
  // Telegram links
  ["t.me/anna_k", ["link"]],
  ["https://t.me/anna_k", ["link"]],
  ["http://telegram.me/anna_k", ["link"]],
  ["see telegram.me/joinchat/AAAA", ["link"]],
  ["t.me/+AbCdEf123", ["link"]],
  ["www.t.me/anna_k", ["link"]],
  ["HTTPS://T.ME/ANNA_K", ["link"]],
  ["telegram.dog/anna_k", ["link"]],
  ["anna_k.t.me", ["link"]],
  ["https://anna_k.t.me/", ["link"]],
  ["tg://resolve?domain=anna_k", ["link"]],
  ["(t.me/anna_k)", ["link"]],
  // several kinds: always phone, email, username, link
  ["t.me/anna_k @anna_k anna@mail.ru +7 900 123 45 67", ["phone", "email", "username", "link"]],
  ["anna@mail.ru or @anna_k", ["email", "username"]],
  ["https://t.me/anna_k 555-1234", ["phone", "link"]]
]

/** Texts that only look like something identifying: `scan` must report nothing. */
const nearMisses: ReadonlyArray<string> = [
  // years and year ranges
  "in 2024",
  "2019-2023",
  "from 2019 to 2023",
  "2019 - 2023",
  "2019–2023",
  "2019 2020 2021",
  "(2019)",
  // prices and amounts
  "$1,250.00",
  "$1,250,000.00",
  "15 000 ₽",
  "€9.99",
  "€ 1.250.000",
  "1.250.000 €",
  "1 250 000 ₽",
  "$1 250 000",
  "2 500 000 руб",
  "1 000 000 USD",
  "12 000 000 rub",
  "10 000 000 views",
  "2 500 000 people",
  "¥100000000",
  "99999.99",
  // times and dates
  "12:30",
  "12:30:45",
  "at 12:30 2024-05-01",
  "2024-05-01",
  "2024-05-01 12:30",
  "01.05.2024",
  "01.05.2024 12:30",
  "12/05/2024",
  "5/1/24",
  "2024/05/01",
  "05-01-2024",
  "01.05.2024-05.05.2024",
  // references to confessions and posts
  "#123",
  "#1234567",
  "confession 4521",
  "confession 1234567",
  "Confession #12345678",
  "post 12345678",
  "№ 1234567",
  "No. 1234567",
  // percentages and decimals
  "50%",
  "99.5 %",
  "1234567%",
  "3.14159265",
  // codes glued to letters: rooms, ids, units, versions
  "room B-204",
  "B-2041234",
  "ID12345678",
  "ID-1234567",
  "5551234567kg",
  "v1.2.3.4567",
  "ISBN 978-3-16-148410-0",
  // lists of small numbers
  "1 2 3 4 5 6 7",
  "scores: 3 2 1 0 4 5 6 7",
  // too short or too long for a phone
  "123456",
  "12 34 56",
  "1234567890123456",
  // @ and e-mail look-alikes
  "me@",
  "me@ home",
  "meet me @ 5pm",
  "at@home",
  "me@home",
  "a@b.c",
  "@",
  "@@@@",
  "@home", // 4 characters: too short for a username
  "@1abcdef", // starts with a digit
  "@_abcdef",
  "@abcdef_", // ends with an underscore
  "@abc__def", // two underscores in a row
  "@" + "a".repeat(33), // longer than 32
  "@andré", // not a username character after it
  "email@", // nothing after the @
  // link look-alikes
  "t.me",
  "t.me/",
  "art.me/gallery",
  "start.me/page",
  "https://example.com/t.me",
  "it.me/x",
  // ordinary text
  "I love exams & coffee <3",
  "",
  "   "
]

/** 10,000-character texts built to make naive regular expressions backtrack. */
const hostile: ReadonlyArray<string> = [
  "1 ".repeat(5_000),
  "1-".repeat(5_000),
  "1.".repeat(5_000),
  "(1".repeat(5_000),
  "+1".repeat(5_000),
  "1".repeat(10_000),
  "1".repeat(9_999) + "a",
  "12:".repeat(3_333),
  "@".repeat(10_000),
  "a@".repeat(5_000),
  "a".repeat(9_999) + "@",
  "@" + "a".repeat(9_999),
  "@" + "a".repeat(9_998) + "é",
  "a.".repeat(5_000) + "@",
  "x@" + "a.".repeat(4_999),
  "x@" + "a-".repeat(4_999),
  "t.me".repeat(2_500),
  "t.".repeat(5_000),
  "a".repeat(9_990) + ".t.me",
  "https://".repeat(1_250),
  "#".repeat(10_000),
  "№1".repeat(5_000),
  "\u200B".repeat(10_000),
  "😀".repeat(5_000),
  "\ud800".repeat(10_000)
]

/** `scan`'s answer as plain strings, to compare with operator names written in the test. */
const found = (text: string, customs: ReadonlyArray<Pattern> = []): ReadonlyArray<string> => scan(text, customs)

const patterns = (raw: string): ReadonlyArray<Pattern> => {
  const parsed = parsePatterns(raw)
  if (Result.isFailure(parsed)) throw new Error(describeProblem(parsed.failure))
  return parsed.success
}

const problemOf = (raw: string): PatternProblem | undefined => {
  const parsed = parsePatterns(raw)
  return Result.isFailure(parsed) ? parsed.failure : undefined
}

describe("Privacy", () => {
  it("scan - finds phone numbers, e-mail addresses, @usernames and Telegram links", () => {
    for (const [text, expected] of positives) assert.deepStrictEqual(scan(text), expected, text)
  })

  it("scan - near misses: years, prices, times, dates, references, percentages, rooms, @ alone", () => {
    for (const text of nearMisses) assert.deepStrictEqual(scan(text), [], text)
  })

  it("scan - a near miss next to a real hit still reports the hit", () => {
    assert.deepStrictEqual(scan("confession #1234 at 12:30 on 2024-05-01 for $1,250.00, call 555-1234"), ["phone"])
    assert.deepStrictEqual(scan("me@ or @anna_k"), ["username"])
  })

  it("scan - returns every 10,000-character hostile text (no catastrophic backtracking)", () => {
    const customs = patterns("student id=\\bS\\d{7}\\b;card=(?i)\\bST-\\d{4,6}\\b")
    for (const text of hostile) {
      assert.strictEqual(text.length >= 9_990, true)
      assert.isArray(scan(text, customs))
    }
    assert.deepStrictEqual(scan("1".repeat(10_000)), [])
    assert.deepStrictEqual(scan("@" + "a".repeat(9_999)), [])
  })

  it("scan - operator patterns come after the built-in kinds, in their configured order, each once", () => {
    const customs = patterns("student id=\\bS\\d{7}\\b;staff card=(?i)\\bST-\\d{4,6}\\b")
    assert.deepStrictEqual(found("S1234567 and S7654321", customs), ["student id"])
    assert.deepStrictEqual(found("st-12345, then S1234567 and @anna_k", customs), ["username", "student id", "staff card"])
    assert.deepStrictEqual(scan("S123456 ST-123", customs), [])
    assert.deepStrictEqual(scan("anything", []), [])
  })

  it("scan - operator patterns see the folded text (fullwidth, zero-width characters removed)", () => {
    const customs = patterns("student id=\\bS\\d{7}\\b")
    assert.deepStrictEqual(found("Ｓ１２３４５６７", customs), ["student id"])
    assert.deepStrictEqual(found("S123\u200B4567", customs), ["student id"])
  })

  it("isBuiltIn - the four built-in kinds, and no operator name", () => {
    for (const kind of ["phone", "email", "username", "link"] as const) assert.isTrue(isBuiltIn(kind))
    for (const pattern of patterns("student id=\\bS\\d{7}\\b")) assert.isFalse(isBuiltIn(pattern.name))
  })

  it("parsePatterns - name=regex entries separated by ';', blanks ignored", () => {
    assert.deepStrictEqual(patterns(""), [])
    assert.deepStrictEqual(patterns("  ;  ; "), [])
    const parsed = patterns(" student id = \\bS\\d{7}\\b ; room=[A-Z]-\\d{3}; ")
    assert.deepStrictEqual(
      parsed.map((p) => [p.name, p.regex.source, p.regex.flags]),
      [
        ["student id", "\\bS\\d{7}\\b", "u"],
        ["room", "[A-Z]-\\d{3}", "u"]
      ]
    )
  })

  it("parsePatterns - '=' inside the expression, \\x3B for ';', (?i) for any case", () => {
    const [equals, semicolon, anyCase] = patterns("a=x=\\d{3};b=\\d{2}\\x3B\\d{2};c=(?i)abc\\d{2}")
    assert.strictEqual(equals?.regex.test("x=123"), true)
    assert.strictEqual(semicolon?.regex.test("12;34"), true)
    assert.strictEqual(anyCase?.regex.flags, "iu")
    assert.strictEqual(anyCase?.regex.test("ABC12"), true)
  })

  it("parsePatterns - safe constructs are accepted", () => {
    const safe = [
      "a=\\bS\\d{7}\\b",
      "a=[A-Z]{2}\\d{6,8}",
      "a=(?:AB|CD)\\d{6}",
      "a=(\\d{2}-){3}\\d{2}",
      "a=(?<year>20\\d{2})-\\d{4}",
      "a=x?\\d{5}",
      "a=[*+?{}()|]\\d{3}",
      "a=\\p{Lu}{2}\\d{4}",
      "a=\\u{1F600}\\d{3}",
      "a=(?=S)S\\d{7}",
      "a=\\(\\d{3}\\)"
    ]
    for (const raw of safe) assert.strictEqual(problemOf(raw), undefined, raw)
  })

  it("parsePatterns - typed failures naming the entry", () => {
    const cases: ReadonlyArray<readonly [string, PatternProblem]> = [
      ["student id", new MalformedEntry({ entry: 1 })],
      ["a=\\d{3};=\\d{3}", new MalformedEntry({ entry: 2 })],
      ["a=\\d{3};b=", new MalformedEntry({ entry: 2 })],
      ["a=\\d{3};;b", new MalformedEntry({ entry: 3 })],
      ["-x=\\d{3}", new InvalidName({ entry: 1, name: "-x" })],
      ["a<b>=\\d{3}", new InvalidName({ entry: 1, name: "a<b>" })],
      [`${"n".repeat(41)}=\\d{3}`, new InvalidName({ entry: 1, name: "n".repeat(41) })],
      ["phone=\\d{3}", new DuplicateName({ entry: 1, name: "phone" })],
      ["Email=\\d{3}", new DuplicateName({ entry: 1, name: "Email" })],
      ["a=\\d{3};A=\\d{4}", new DuplicateName({ entry: 2, name: "A" })],
      ["a=\\d{3", new InvalidRegex({ entry: 1, name: "a", detail: "" })],
      ["a=(\\d{3}", new InvalidRegex({ entry: 1, name: "a", detail: "" })],
      ["a=\\q", new InvalidRegex({ entry: 1, name: "a", detail: "" })],
      ["a=(a+)+$", new UnsafeRegex({ entry: 1, name: "a", why: "" })],
      ["a=\\d+", new UnsafeRegex({ entry: 1, name: "a", why: "" })],
      ["a=.*x", new UnsafeRegex({ entry: 1, name: "a", why: "" })],
      ["a=\\d{3,}", new UnsafeRegex({ entry: 1, name: "a", why: "" })],
      ["a=\\d{1,65}", new UnsafeRegex({ entry: 1, name: "a", why: "" })],
      ["a=(\\d{1,3}){2}", new UnsafeRegex({ entry: 1, name: "a", why: "" })],
      ["a=(?:a|aa){1,10}", new UnsafeRegex({ entry: 1, name: "a", why: "" })],
      ["a=((x?)){1,10}", new UnsafeRegex({ entry: 1, name: "a", why: "" })],
      ["a=(x)\\1", new UnsafeRegex({ entry: 1, name: "a", why: "" })],
      ["a=(?<n>x)\\k<n>", new UnsafeRegex({ entry: 1, name: "a", why: "" })],
      ["a=x?", new MatchesEmpty({ entry: 1, name: "a" })],
      ["a=(?:)", new MatchesEmpty({ entry: 1, name: "a" })],
      ["a=^", new MatchesEmpty({ entry: 1, name: "a" })]
    ]
    for (const [raw, expected] of cases) {
      const problem = problemOf(raw)
      // The engine's message and the reason's wording are for people; the tag and the entry are the contract.
      assert.deepStrictEqual(
        problem === undefined ? undefined : { _tag: problem._tag, entry: problem.entry },
        { _tag: expected._tag, entry: expected.entry },
        raw
      )
    }
  })

  it("describeProblem - one line naming the variable, the entry and the rule", () => {
    assert.strictEqual(describeProblem(new MalformedEntry({ entry: 2 })), "PRIVACY_PATTERNS entry 2: expected name=regex")
    const unsafe = problemOf("id=(a+)+$")
    assert.isDefined(unsafe)
    if (unsafe !== undefined) {
      const line = describeProblem(unsafe)
      assert.match(line, /^PRIVACY_PATTERNS entry 1 \("id"\): refused, unbounded repetition/)
      assert.notInclude(line, "\n")
    }
    const invalid = problemOf("id=(x")
    assert.isDefined(invalid)
    if (invalid !== undefined) assert.match(describeProblem(invalid), /^PRIVACY_PATTERNS entry 1 \("id"\): invalid regular expression: /)
  })
})
