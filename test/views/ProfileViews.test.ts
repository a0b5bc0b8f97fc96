import { assert, describe, it } from "@effect/vitest"
import * as ProfileViews from "../../src/views/ProfileViews.ts"

const base = { anonymousDefault: true, approvedConfessions: 0, commentsWritten: 0, likesReceived: 0, dislikesReceived: 0 }

describe("ProfileViews", () => {
  it("profile - anonymity, counts, impact points and acceptance, with the three buttons", () => {
    const view = ProfileViews.profile({ ...base, approvedConfessions: 2, commentsWritten: 3, likesReceived: 4, dislikesReceived: 2 })
    assert.strictEqual(
      view.text,
      [
        "👤 <b>Your profile</b>",
        "",
        "🎭 Anonymity: <b>on</b> (new confessions are posted as Anonymous)",
        "📝 Approved confessions: 2",
        "💬 Comments written: 3",
        "⭐ Impact points: 28",
        "🤝 Acceptance score: 67%"
      ].join("\n")
    )
    assert.deepStrictEqual(view.keyboard, {
      inline_keyboard: [
        [
          { text: "📝 My confessions", callback_data: "1:mf:1" },
          { text: "💬 My comments", callback_data: "1:mc:1" }
        ],
        [{ text: "🎭 Toggle anonymity", callback_data: "1:ta" }]
      ]
    })
  })

  it("profile - a new user: anonymity off shown, zero points, no acceptance yet", () => {
    const text = ProfileViews.profile({ ...base, anonymousDefault: false }).text
    assert.include(text, "🙂 Anonymity: <b>off</b> (new confessions show your name)")
    assert.include(text, "⭐ Impact points: 0")
    assert.include(text, "🤝 Acceptance score: —")
  })

  it("profile - impact points never go below zero, large counts are grouped", () => {
    const text = ProfileViews.profile({ ...base, dislikesReceived: 50, commentsWritten: 1 }).text
    assert.include(text, "⭐ Impact points: 0")
    assert.include(text, "🤝 Acceptance score: 0%")
    assert.include(ProfileViews.profile({ ...base, approvedConfessions: 123_456 }).text, "⭐ Impact points: 1,234,560")
  })
})
