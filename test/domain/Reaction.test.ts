import { assert, describe, it } from "@effect/vitest"
import * as Reaction from "../../src/domain/Reaction.ts"

describe("Reaction", () => {
  it("toggle - every (current, pressed) pair", () => {
    const cases: ReadonlyArray<readonly [Reaction.Current, Reaction.Kind, Reaction.Transition]> = [
      [null, "like", { next: "like", likes: 1, dislikes: 0 }],
      [null, "dislike", { next: "dislike", likes: 0, dislikes: 1 }],
      ["like", "like", { next: null, likes: -1, dislikes: 0 }],
      ["dislike", "dislike", { next: null, likes: 0, dislikes: -1 }],
      ["like", "dislike", { next: "dislike", likes: -1, dislikes: 1 }],
      ["dislike", "like", { next: "like", likes: 1, dislikes: -1 }]
    ]
    for (const [current, pressed, expected] of cases) {
      assert.deepStrictEqual(Reaction.toggle(current, pressed), expected, `${current} + ${pressed}`)
    }
  })

  it("toggle - pressing the same kind twice returns to the start with zero net change", () => {
    for (const start of [null, "like", "dislike"] as const) {
      for (const pressed of ["like", "dislike"] as const) {
        const first = Reaction.toggle(start, pressed)
        const second = Reaction.toggle(first.next, pressed)
        if (start === null || start === pressed) {
          assert.strictEqual(second.next, start)
          assert.strictEqual(first.likes + second.likes, 0)
          assert.strictEqual(first.dislikes + second.dislikes, 0)
        } else {
          assert.strictEqual(second.next, null)
        }
      }
    }
  })

  it("opposite - swaps the kinds", () => {
    assert.strictEqual(Reaction.opposite("like"), "dislike")
    assert.strictEqual(Reaction.opposite("dislike"), "like")
  })
})
