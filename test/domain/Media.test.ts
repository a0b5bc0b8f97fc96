import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import type { PhotoSize } from "grammy/types"
import { captionLimit, longestPostText } from "../../src/domain/Confession.ts"
import {
  Album,
  captionMaxLength,
  classify,
  type Content,
  defaultVoiceMaxSeconds,
  Document,
  largestSize,
  type MessageParts,
  Other,
  Photo,
  Text,
  validateCaption,
  validateVoice,
  Voice,
  VoiceTooLong
} from "../../src/domain/Media.ts"
import { TooLong } from "../../src/domain/Validation.ts"

const size = (fileId: string, width: number, height: number): PhotoSize => ({
  file_id: fileId,
  file_unique_id: `u-${fileId}`,
  width,
  height
})

// Telegram's order: smallest first.
const sizes = [size("small", 90, 60), size("medium", 320, 213), size("large", 1280, 853)]
const voice = { file_id: "voice-1", file_unique_id: "v1", duration: 42 }
const file = { file_id: "f", file_unique_id: "uf" }

describe("Media", () => {
  it("classify - text, photo, voice, document, album and everything else", () => {
    const cases: ReadonlyArray<readonly [string, MessageParts, Content]> = [
      ["text", { text: "hello" }, Text({ text: "hello" })],
      ["photo without caption", { photo: sizes }, Photo({ fileId: "large", caption: "" })],
      ["photo with caption", { photo: sizes, caption: "look" }, Photo({ fileId: "large", caption: "look" })],
      ["voice", { voice }, Voice({ fileId: "voice-1", duration: 42, caption: "" })],
      ["voice with caption", { voice, caption: "listen" }, Voice({ fileId: "voice-1", duration: 42, caption: "listen" })],
      ["image document", { document: { ...file, mime_type: "image/jpeg" } }, Document({ image: true })],
      ["other document", { document: { ...file, mime_type: "application/pdf" } }, Document({ image: false })],
      ["document without type", { document: file }, Document({ image: false })],
      ["album photo", { photo: sizes, media_group_id: "g1", caption: "x" }, Album({ mediaGroupId: "g1" })],
      ["album document", { document: file, media_group_id: "g2" }, Album({ mediaGroupId: "g2" })],
      [
        "sticker",
        { sticker: { ...file, type: "regular", width: 512, height: 512, is_animated: false, is_video: false } },
        Other({ kind: "sticker" })
      ],
      ["video note", { video_note: { ...file, length: 240, duration: 5 } }, Other({ kind: "video_note" })],
      ["video", { video: { ...file, width: 1, height: 1, duration: 1 } }, Other({ kind: "video" })],
      ["audio", { audio: { ...file, duration: 1 } }, Other({ kind: "audio" })],
      // Telegram fills `document` too for a GIF: it is an animation, not a document.
      [
        "animation",
        { animation: { ...file, width: 1, height: 1, duration: 1 }, document: file },
        Other({ kind: "animation" })
      ],
      ["location", { location: { latitude: 1, longitude: 2 } }, Other({ kind: "location" })],
      ["dice", { dice: { emoji: "🎲", value: 3 } }, Other({ kind: "dice" })],
      ["photo without sizes", { photo: [] }, Other({ kind: "unknown" })],
      ["nothing we know", {}, Other({ kind: "unknown" })]
    ]
    for (const [name, message, expected] of cases) assert.deepStrictEqual(classify(message), expected, name)
  })

  it("largestSize - most pixels wins, a tie goes to the later size, nothing for no sizes", () => {
    assert.strictEqual(largestSize(sizes)?.file_id, "large")
    assert.strictEqual(largestSize([...sizes].reverse())?.file_id, "large")
    assert.strictEqual(largestSize([size("a", 100, 100), size("b", 50, 200)])?.file_id, "b")
    assert.strictEqual(largestSize([size("only", 0, 0)])?.file_id, "only")
    assert.isUndefined(largestSize([]))
  })

  it("validateCaption - may be empty; trimmed; at most what fits the channel post's caption whole", () => {
    assert.strictEqual(captionMaxLength, longestPostText(captionLimit))
    assert.strictEqual(captionMaxLength, 1024 - 345)
    const cases: ReadonlyArray<readonly [string | undefined, Result.Result<string, TooLong>]> = [
      [undefined, Result.succeed("")],
      ["", Result.succeed("")],
      [" \n\u200B ", Result.succeed("")],
      ["  nice  ", Result.succeed("nice")],
      ["x".repeat(captionMaxLength), Result.succeed("x".repeat(captionMaxLength))],
      [
        "x".repeat(captionMaxLength + 1),
        Result.fail(new TooLong({ length: captionMaxLength + 1, maxLength: captionMaxLength }))
      ],
      // UTF-16 units, as Telegram counts captions.
      [
        "😀".repeat(340),
        Result.fail(new TooLong({ length: 680, maxLength: captionMaxLength }))
      ],
      ["a\u0000b", Result.succeed("ab")]
    ]
    for (const [caption, expected] of cases) {
      assert.deepStrictEqual(validateCaption(caption), expected, JSON.stringify(caption?.slice(0, 10)))
    }
    assert.deepStrictEqual(validateCaption("x".repeat(1024), 1024), Result.succeed("x".repeat(1024)))
  })

  it("validateVoice - up to the maximum inclusive; the default is two minutes", () => {
    assert.strictEqual(defaultVoiceMaxSeconds, 120)
    const cases: ReadonlyArray<readonly [number, number, Result.Result<number, VoiceTooLong>]> = [
      [0, 120, Result.succeed(0)],
      [1, 120, Result.succeed(1)],
      [120, 120, Result.succeed(120)],
      [121, 120, Result.fail(new VoiceTooLong({ duration: 121, maxDuration: 120 }))],
      [3600, 60, Result.fail(new VoiceTooLong({ duration: 3600, maxDuration: 60 }))]
    ]
    for (const [duration, max, expected] of cases) {
      assert.deepStrictEqual(validateVoice(duration, max), expected, `${duration}/${max}`)
    }
  })
})
