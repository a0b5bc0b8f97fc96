import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import { UpdateId } from "../../src/domain/Ids.ts"
import { check, type Checked, InvalidUpdate, reasonMaxLength } from "../../src/domain/TelegramUpdate.ts"

const from = { id: 7, is_bot: false, first_name: "Ann", username: "ann_k", language_code: "en" }
const chat = { id: 7, type: "private", first_name: "Ann" }
const message = (fields: Record<string, unknown> = {}) => ({ message_id: 10, date: 1_700_000_000, chat, from, ...fields })
const photo = [
  { file_id: "s", file_unique_id: "us", width: 90, height: 60 },
  { file_id: "l", file_unique_id: "ul", width: 1280, height: 853, file_size: 120_000 }
]
const keyboard = { inline_keyboard: [[{ text: "👍 3", callback_data: "1:lk:5" }, { text: "Open", url: "https://t.me/x" }]] }

/** The tag and kind of a valid update, or the failure. */
const outcome = (input: unknown): readonly [string, string] | InvalidUpdate => {
  const checked = check(input)
  return Result.isSuccess(checked) ? [checked.success._tag, checked.success.kind] : checked.failure
}

const failure = (input: unknown): InvalidUpdate => {
  const checked = check(input)
  if (Result.isSuccess(checked)) throw new Error(`expected a failure for ${JSON.stringify(input).slice(0, 100)}`)
  return checked.failure
}

const succeeded = (input: unknown): Checked => {
  const checked = check(input)
  if (Result.isFailure(checked)) throw new Error(`expected a valid update, got: ${checked.failure.reason}`)
  return checked.success
}

describe("TelegramUpdate", () => {
  it("check - messages and button presses the bot handles are Ours", () => {
    const cases: ReadonlyArray<readonly [string, unknown]> = [
      ["command", { update_id: 1, message: message({ text: "/start c12", entities: [{ type: "bot_command", offset: 0, length: 6 }] }) }],
      ["text", { update_id: 2, message: message({ text: "hello" }) }],
      ["photo", { update_id: 3, message: message({ photo, caption: "look", caption_entities: [] }) }],
      ["voice", { update_id: 4, message: message({ voice: { file_id: "v", file_unique_id: "uv", duration: 42, mime_type: "audio/ogg" } }) }],
      ["document", { update_id: 5, message: message({ document: { file_id: "d", file_unique_id: "ud", mime_type: "image/png", file_name: "x.png" } }) }],
      ["sticker", { update_id: 6, message: message({ sticker: { file_id: "s", file_unique_id: "us", type: "regular", width: 1, height: 1 } }) }],
      ["album item", { update_id: 7, message: message({ photo, media_group_id: "1234" }) }],
      ["video note", { update_id: 8, message: message({ video_note: { file_id: "n", file_unique_id: "un", length: 1, duration: 1 } }) }],
      ["group message", { update_id: 9, message: message({ chat: { id: -1001234567890, type: "supergroup", title: "G" }, text: "hi" }) }],
      ["message without from", { update_id: 10, message: { message_id: 1, date: 0, chat: { id: -100, type: "group" } } }],
      ["update id 0", { update_id: 0, message: message({ text: "x" }) }],
      ["largest ids", { update_id: Number.MAX_SAFE_INTEGER, message: message({ from: { ...from, id: Number.MAX_SAFE_INTEGER }, chat: { id: -Number.MAX_SAFE_INTEGER, type: "private" } }) }],
      ["button", { update_id: 11, callback_query: { id: "q1", from, chat_instance: "ci", data: "1:lk:5", message: message({ text: "x", reply_markup: keyboard }) } }],
      ["button without data", { update_id: 12, callback_query: { id: "q2", from, chat_instance: "ci", game_short_name: "g" } }],
      ["button on an inline message", { update_id: 13, callback_query: { id: "q3", from, chat_instance: "ci", inline_message_id: "im", data: "1:no" } }],
      ["button on an inaccessible message", { update_id: 14, callback_query: { id: "q4", from, chat_instance: "ci", data: "1:no", message: { chat, message_id: 3, date: 0 } } }]
    ]
    for (const [name, input] of cases) {
      const result = outcome(input)
      assert.deepStrictEqual(result, ["Ours", name.startsWith("button") ? "callback_query" : "message"], name)
    }
  })

  it("check - every other kind of update is valid but NotOurs, with its kind", () => {
    const cases: ReadonlyArray<readonly [unknown, string]> = [
      [{ update_id: 1, edited_message: { ...message({ text: "x" }), edit_date: 1 } }, "edited_message"],
      [{ update_id: 2, channel_post: { message_id: 1, date: 0, chat: { id: -100, type: "channel" }, text: "x" } }, "channel_post"],
      [{ update_id: 3, edited_channel_post: { message_id: 1, date: 0, chat: { id: -100, type: "channel" } } }, "edited_channel_post"],
      [{ update_id: 4, my_chat_member: { chat, from, date: 0, old_chat_member: {}, new_chat_member: {} } }, "my_chat_member"],
      [{ update_id: 5, chat_member: {} }, "chat_member"],
      [{ update_id: 6, inline_query: { id: "i", from, query: "", offset: "" } }, "inline_query"],
      [{ update_id: 7, poll: { id: "p" } }, "poll"],
      [{ update_id: 8, message_reaction: {} }, "message_reaction"],
      [{ update_id: 9, chat_join_request: {} }, "chat_join_request"],
      [{ update_id: 10, business_message: { message_id: 1 } }, "business_message"],
      [{ update_id: 11, pre_checkout_query: {} }, "pre_checkout_query"],
      [{ update_id: 12, some_future_kind: { anything: true } }, "unknown"],
      [{ update_id: 13 }, "unknown"]
    ]
    for (const [input, kind] of cases) assert.deepStrictEqual(outcome(input), ["NotOurs", kind], kind)
  })

  it("check - hands on the original object, unknown fields included", () => {
    const input = {
      update_id: 1,
      message: message({ text: "hi", via_bot: { id: 9 }, new_field_2030: [1, 2, 3] }),
      extra_top_level: "kept"
    }
    const checked = succeeded(input)
    assert.strictEqual<unknown>(checked.update, input)
    assert.deepStrictEqual((checked.update.message as unknown as Record<string, unknown>)["new_field_2030"], [1, 2, 3])
  })

  it("check - hostile but well-formed strings decode: NUL, lone surrogates, 10,000 characters, RTL, zero-width", () => {
    const strings = [
      "a\u0000b",
      "\u0000",
      "\ud800",
      "x\udc00y",
      "😀\ud83d",
      "n".repeat(10_000),
      "😀".repeat(5_000),
      "\u202Eevil\u202C",
      "\u200F\u200E\u061C",
      "مرحبا بالعالم",
      "\u200B\u200C\u200D\uFEFF",
      "\u2800\u3164",
      "",
      "<b>&amp;</b>"
    ]
    for (const text of strings) {
      const label = JSON.stringify(text.slice(0, 8))
      const sender = { ...from, first_name: text, last_name: text, username: text }
      assert.deepStrictEqual(
        outcome({ update_id: 1, message: message({ from: sender, text, entities: [], caption: text }) }),
        ["Ours", "message"],
        label
      )
      assert.deepStrictEqual(
        outcome({ update_id: 2, callback_query: { id: text, from: sender, data: text, chat_instance: text } }),
        ["Ours", "callback_query"],
        label
      )
      assert.deepStrictEqual(
        outcome({ update_id: 3, message: message({ photo: [{ file_id: text, file_unique_id: text, width: 1, height: 1 }], caption: text, media_group_id: text }) }),
        ["Ours", "message"],
        label
      )
    }
  })

  it("check - malformed updates fail with a short reason naming the field, and the update id when usable", () => {
    const base = { message_id: 1, date: 0, chat }
    const cases: ReadonlyArray<readonly [unknown, InvalidUpdate]> = [
      [{ update_id: 1, message: {} }, new InvalidUpdate({ updateId: UpdateId.make(1), reason: "message.message_id: Missing key" })],
      [{ update_id: 1, callback_query: { id: "q", data: "1:no" } }, new InvalidUpdate({ updateId: UpdateId.make(1), reason: "callback_query.from: Missing key" })],
      [{ update_id: 2, callback_query: { id: "q", from: null } }, new InvalidUpdate({ updateId: UpdateId.make(2), reason: "callback_query.from: Expected object" })],
      [{ update_id: 1.5 }, new InvalidUpdate({ updateId: undefined, reason: "update_id: Expected an integer" })],
      [{ update_id: "1" }, new InvalidUpdate({ updateId: undefined, reason: "update_id: Expected number" })],
      [{ update_id: 2 ** 53 }, new InvalidUpdate({ updateId: undefined, reason: "update_id: Expected an integer" })],
      [{ update_id: -1 }, new InvalidUpdate({ updateId: undefined, reason: "update_id: Expected a value greater than or equal to 0" })],
      [{ message: message() }, new InvalidUpdate({ updateId: undefined, reason: "update_id: Missing key" })],
      [{ update_id: 3, message: { ...base, from: { ...from, id: 1.5 } } }, new InvalidUpdate({ updateId: UpdateId.make(3), reason: "message.from.id: Expected an integer" })],
      [{ update_id: 3, message: { ...base, from: { ...from, id: 2 ** 53 } } }, new InvalidUpdate({ updateId: UpdateId.make(3), reason: "message.from.id: Expected an integer" })],
      [{ update_id: 3, message: { ...base, from: { ...from, id: 0 } } }, new InvalidUpdate({ updateId: UpdateId.make(3), reason: "message.from.id: Expected a value greater than 0" })],
      [{ update_id: 3, message: { ...base, chat: { id: -(2 ** 53), type: "group" } } }, new InvalidUpdate({ updateId: UpdateId.make(3), reason: "message.chat.id: Expected an integer" })],
      [{ update_id: 3, message: { ...base, message_id: 1.5 } }, new InvalidUpdate({ updateId: UpdateId.make(3), reason: "message.message_id: Expected an integer" })],
      [{ update_id: 4, message: { ...base, chat: null } }, new InvalidUpdate({ updateId: UpdateId.make(4), reason: "message.chat: Expected object" })],
      [{ update_id: 4, message: { message_id: 1, date: 0 } }, new InvalidUpdate({ updateId: UpdateId.make(4), reason: "message.chat: Missing key" })],
      [{ update_id: 4, message: null }, new InvalidUpdate({ updateId: UpdateId.make(4), reason: "message: Expected object" })],
      [{ update_id: 5, message: { ...base, from: { ...from, username: null } } }, new InvalidUpdate({ updateId: UpdateId.make(5), reason: "message.from.username: Expected string" })],
      [{ update_id: 5, message: { ...base, from: { ...from, is_bot: "false" } } }, new InvalidUpdate({ updateId: UpdateId.make(5), reason: "message.from.is_bot: Expected boolean" })],
      [{ update_id: 5, message: { ...base, text: 5 } }, new InvalidUpdate({ updateId: UpdateId.make(5), reason: "message.text: Expected string" })],
      [{ update_id: 6, message: { ...base, entities: [{ type: "bot_command", offset: -1, length: 2 }] } }, new InvalidUpdate({ updateId: UpdateId.make(6), reason: "message.entities.0.offset: Expected a value greater than or equal to 0" })],
      [{ update_id: 6, message: { ...base, photo: [] } }, new InvalidUpdate({ updateId: UpdateId.make(6), reason: "message.photo.0: Missing key" })],
      [{ update_id: 6, message: { ...base, voice: { file_id: "v", file_unique_id: "u" } } }, new InvalidUpdate({ updateId: UpdateId.make(6), reason: "message.voice.duration: Missing key" })],
      [{ update_id: 7, callback_query: { id: "q", from, data: 5 } }, new InvalidUpdate({ updateId: UpdateId.make(7), reason: "callback_query.data: Expected string" })],
      [{ update_id: 7, callback_query: { id: "q", from, message: { ...base, reply_markup: { inline_keyboard: "x" } } } }, new InvalidUpdate({ updateId: UpdateId.make(7), reason: "callback_query.message.reply_markup.inline_keyboard: Expected array" })],
      [{ update_id: 8, message: message({ text: "x" }), callback_query: { id: "q", from } }, new InvalidUpdate({ updateId: UpdateId.make(8), reason: "more than one update kind: message, callback_query" })],
      [null, new InvalidUpdate({ updateId: undefined, reason: "Expected object" })],
      [undefined, new InvalidUpdate({ updateId: undefined, reason: "Expected object" })],
      ["update", new InvalidUpdate({ updateId: undefined, reason: "Expected object" })],
      [42, new InvalidUpdate({ updateId: undefined, reason: "Expected object" })],
      [[{ update_id: 1 }], new InvalidUpdate({ updateId: undefined, reason: "Expected object" })]
    ]
    for (const [input, expected] of cases) assert.deepStrictEqual(failure(input), expected, JSON.stringify(input)?.slice(0, 120))
  })

  it("check - a reason never quotes the update's content and stays short", () => {
    const secret = "Ann Secretname 555-1234"
    const inputs: ReadonlyArray<unknown> = [
      { update_id: 1, message: { message_id: 1, date: 0, chat: { id: secret, type: "private" } } },
      { update_id: 1, message: { message_id: 1, date: 0, chat, from: { id: secret, is_bot: false, first_name: secret } } },
      { update_id: 1, message: { message_id: 1, date: 0, chat, from: { id: 7, is_bot: secret, first_name: secret } } },
      { update_id: 1, callback_query: { id: 5, from, data: secret } },
      { update_id: secret },
      secret
    ]
    for (const input of inputs) {
      const reason = failure(input).reason
      assert.notInclude(reason, "Secretname", reason)
      assert.isAtMost(reason.length, reasonMaxLength)
    }
  })

  it("check - deep and wide hostile structures are judged, not crashed on", () => {
    const manyEntities = Array.from({ length: 10_000 }, (_, index) => ({ type: "bold", offset: index, length: 1 }))
    assert.deepStrictEqual(outcome({ update_id: 1, message: message({ text: "x".repeat(10_000), entities: manyEntities }) }), ["Ours", "message"])
    const badLast = [...manyEntities.slice(0, 9_999), { type: "bold", offset: 1, length: "1" }]
    assert.strictEqual(failure({ update_id: 1, message: message({ entities: badLast }) }).reason, "message.entities.9999.length: Expected number")
    let nested: Record<string, unknown> = { end: true }
    for (let depth = 0; depth < 1_000; depth++) nested = { inner: nested }
    assert.deepStrictEqual(outcome({ update_id: 1, message: message({ text: "x", reply_to_message: nested }) }), ["Ours", "message"])
    const polluted = JSON.parse('{"update_id":1,"__proto__":{"message":{}},"constructor":{"prototype":{}}}') as unknown
    assert.deepStrictEqual(outcome(polluted), ["NotOurs", "unknown"])
  })
})
