import { assert, describe, it } from "@effect/vitest"
import * as CallbackData from "../../src/domain/CallbackData.ts"
import { ConfessionId } from "../../src/domain/Ids.ts"
import * as Keyboards from "../../src/views/Keyboards.ts"

describe("Keyboards", () => {
  it("main - ✍️ Confess · 👤 Profile · ℹ️ Help in one resized, persistent row", () => {
    assert.deepStrictEqual(Keyboards.main, {
      keyboard: [[{ text: "✍️ Confess" }, { text: "👤 Profile" }, { text: "ℹ️ Help" }]],
      resize_keyboard: true,
      is_persistent: true
    })
  })

  it("button - carries the encoded action, which decodes back", () => {
    const action = CallbackData.Approve({ confessionId: ConfessionId.make(42) })
    const button = Keyboards.button("✅", action)
    assert.deepStrictEqual(button, { text: "✅", callback_data: "1:ap:42" })
    assert.deepStrictEqual(CallbackData.fromString(button.callback_data)._tag, "Some")
  })

  it("pager - arrows only where there is somewhere to go, with the page counter between them", () => {
    const page = (n: number) => CallbackData.PendingPage({ page: n })
    const keys = (p: number, totalPages: number) =>
      Keyboards.pager({ page: p, totalPages }, page).map((row) =>
        row.map((b) => [b.text, "callback_data" in b ? b.callback_data : ""])
      )
    assert.deepStrictEqual(keys(1, 1), [])
    assert.deepStrictEqual(keys(1, 3), [[["1/3", "1:no"], ["➡️", "1:pp:2"]]])
    assert.deepStrictEqual(keys(2, 3), [[["⬅️", "1:pp:1"], ["2/3", "1:no"], ["➡️", "1:pp:3"]]])
    assert.deepStrictEqual(keys(3, 3), [[["⬅️", "1:pp:2"], ["3/3", "1:no"]]])
  })

  it("inline - drops empty rows so a single page has no empty keyboard line", () => {
    const ok = Keyboards.urlButton("go", "https://example.org")
    assert.deepStrictEqual(Keyboards.inline([[], [ok], []]), { inline_keyboard: [[ok]] })
  })
})
