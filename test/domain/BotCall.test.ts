import { assert, describe, it } from "@effect/vitest"
import * as BotCall from "../../src/domain/BotCall.ts"

const keyboard = { inline_keyboard: [[{ text: "💬", url: "https://t.me/x?start=c1" }]] }

describe("BotCall", () => {
  it("editOf - a send becomes the edit showing its text or caption and inline keyboard", () => {
    const cases: ReadonlyArray<readonly [BotCall.BotCall, number | undefined, BotCall.BotCall | undefined]> = [
      [
        BotCall.sendMessage("-100", "#1 — Anonymous", keyboard),
        7,
        BotCall.BotCall.cases.EditText.make({ chatId: "-100", messageId: 7, text: "#1 — Anonymous", keyboard })
      ],
      [
        BotCall.sendMessage("-100", "no keyboard"),
        undefined,
        BotCall.BotCall.cases.EditText.make({ chatId: "-100", text: "no keyboard" })
      ],
      [
        BotCall.sendMessage(5, "a reply keyboard is not an inline one", { keyboard: [[{ text: "✍️ Confess" }]] }),
        3,
        BotCall.BotCall.cases.EditText.make({ chatId: 5, messageId: 3, text: "a reply keyboard is not an inline one" })
      ],
      [
        BotCall.BotCall.cases.SendPhoto.make({ chatId: "-100", fileId: "f", caption: "#2", markup: keyboard }),
        9,
        BotCall.BotCall.cases.EditCaption.make({ chatId: "-100", messageId: 9, caption: "#2", keyboard })
      ],
      [
        BotCall.BotCall.cases.SendVoice.make({ chatId: "-100", fileId: "v", caption: "#3" }),
        undefined,
        BotCall.BotCall.cases.EditCaption.make({ chatId: "-100", caption: "#3" })
      ],
      [BotCall.answerCallback("q1", "ok"), 1, undefined],
      [BotCall.BotCall.cases.Delete.make({ chatId: 1, messageId: 2 }), 2, undefined]
    ]
    for (const [call, messageId, expected] of cases) {
      assert.deepStrictEqual(BotCall.editOf(call, messageId), expected, call._tag)
    }
  })
})
