// Simulated people and the Telegram updates they cause: a text (commands carry their bot_command entity), a photo
// with a caption, a voice note, a document, a sticker, an edited text, a button press. The one set of builders for
// the tests, the benchmark and the playground; the emulator's `send`/`press` build on them with its chat state.
import type { Chat, Message, Update, User } from "grammy/types"

export interface Person {
  readonly id: number
  readonly first_name: string
  readonly last_name?: string
  readonly username?: string
  readonly language_code?: string
}

export const person = (id: number, firstName: string, username?: string): Person => ({
  id,
  first_name: firstName,
  ...(username !== undefined ? { username } : {})
})

export const userOf = (p: Person): User => ({
  id: p.id,
  is_bot: false,
  first_name: p.first_name,
  ...(p.last_name !== undefined ? { last_name: p.last_name } : {}),
  ...(p.username !== undefined ? { username: p.username } : {}),
  ...(p.language_code !== undefined ? { language_code: p.language_code } : {})
})

export const privateChatOf = (p: Person): Chat.PrivateChat => ({
  id: p.id,
  type: "private",
  first_name: p.first_name,
  ...(p.last_name !== undefined ? { last_name: p.last_name } : {}),
  ...(p.username !== undefined ? { username: p.username } : {})
})

// Telegram's update ids only grow. Tests build updates before any emulator sees them, several emulators may live in
// one process, and explicit ids may be pushed: one process-wide high-water mark keeps every id handed out here above
// every id seen, so a freshly built update is never below an offset some emulator already confirmed.
let highestUpdateId = 0

/** The next update id, above every id built or pushed so far in this process. */
export const nextUpdateId = (): number => ++highestUpdateId

/** The highest update id built or seen so far in this process. */
export const lastUpdateId = (): number => highestUpdateId

/** Records an id built or pushed elsewhere, so later fresh ids stay above it. */
export const observeUpdateId = (id: number): void => {
  if (id > highestUpdateId) highestUpdateId = id
}

/** What a person's message holds. */
export type Content =
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "photo"; readonly caption?: string | undefined }
  | { readonly kind: "voice"; readonly seconds?: number | undefined }
  | { readonly kind: "document"; readonly fileName?: string | undefined; readonly caption?: string | undefined }
  | { readonly kind: "sticker"; readonly emoji?: string | undefined }

/** A date Telegram could have sent (tests compare nothing against it). */
export const defaultDate = 1_700_000_000

/** A message a person sent the bot: never a channel post, always with a sender. */
export type PersonMessage = Message & Update.NonChannel

const commandPattern = /^\/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?/

/** The message a person sends in their private chat with the bot, as Telegram delivers it. */
export const messageOf = (
  p: Person,
  content: Content,
  options: { readonly messageId: number; readonly date?: number | undefined; readonly fileKey?: string | undefined }
): PersonMessage => {
  const base = { message_id: options.messageId, date: options.date ?? defaultDate, chat: privateChatOf(p), from: userOf(p) }
  const key = options.fileKey ?? `${p.id}-${options.messageId}`
  switch (content.kind) {
    case "text": {
      const command = commandPattern.exec(content.text)
      return {
        ...base,
        text: content.text,
        ...(command ? { entities: [{ type: "bot_command" as const, offset: 0, length: command[0].length }] } : {})
      }
    }
    case "photo":
      return {
        ...base,
        photo: [
          { file_id: `photo-s-${key}`, file_unique_id: `ps${key}`, width: 90, height: 90, file_size: 1_200 },
          { file_id: `photo-${key}`, file_unique_id: `p${key}`, width: 800, height: 800, file_size: 64_000 }
        ],
        ...(content.caption !== undefined ? { caption: content.caption } : {})
      }
    case "voice":
      return {
        ...base,
        voice: { file_id: `voice-${key}`, file_unique_id: `v${key}`, duration: content.seconds ?? 3, mime_type: "audio/ogg", file_size: 9_000 }
      }
    case "document":
      return {
        ...base,
        document: {
          file_id: `document-${key}`,
          file_unique_id: `d${key}`,
          file_name: content.fileName ?? "notes.pdf",
          mime_type: "application/pdf",
          file_size: 20_000
        },
        ...(content.caption !== undefined ? { caption: content.caption } : {})
      }
    case "sticker":
      return {
        ...base,
        sticker: {
          file_id: `sticker-${key}`,
          file_unique_id: `s${key}`,
          type: "regular",
          width: 512,
          height: 512,
          is_animated: false,
          is_video: false,
          emoji: content.emoji ?? "👍"
        }
      }
  }
}

/** An update carrying a new message of `p` (message id = update id unless given). */
export const message = (p: Person, content: Content, updateId = nextUpdateId(), messageId = updateId): Update => {
  observeUpdateId(updateId)
  return { update_id: updateId, message: messageOf(p, content, { messageId }) }
}

export const text = (p: Person, body: string, updateId = nextUpdateId()): Update => message(p, { kind: "text", text: body }, updateId)

/** `/name args` as typed in the chat. */
export const command = (p: Person, name: string, args = "", updateId = nextUpdateId()): Update =>
  text(p, args.length > 0 ? `/${name} ${args}` : `/${name}`, updateId)

export const photo = (p: Person, updateId = nextUpdateId(), caption?: string): Update =>
  message(p, { kind: "photo", caption }, updateId)

export const voice = (p: Person, updateId = nextUpdateId()): Update => message(p, { kind: "voice" }, updateId)

export const document = (p: Person, fileName = "notes.pdf", updateId = nextUpdateId()): Update =>
  message(p, { kind: "document", fileName }, updateId)

export const sticker = (p: Person, emoji = "👍", updateId = nextUpdateId()): Update => message(p, { kind: "sticker", emoji }, updateId)

/** `p` edited their earlier text message `messageId` (by default the update's own id, as `text` numbers them). */
export const editedText = (p: Person, body: string, updateId = nextUpdateId(), messageId = updateId): Update => {
  observeUpdateId(updateId)
  return {
    update_id: updateId,
    edited_message: { ...messageOf(p, { kind: "text", text: body }, { messageId }), edit_date: defaultDate + 1 } as PersonMessage & Update.Edited
  }
}

/** A press of a button carrying `data` on `onMessage` (the message as the person's client shows it). */
export const callbackOn = (p: Person, onMessage: Message, data: string, updateId = nextUpdateId()): Update => {
  observeUpdateId(updateId)
  return {
    update_id: updateId,
    callback_query: { id: callbackIdOf(updateId), from: userOf(p), chat_instance: `ci${p.id}`, data, message: onMessage }
  }
}

/**
 * A press of a button carrying `data` on the bot's message `messageId` in `p`'s chat, for raw pushing. The message
 * it carries is a stand-in ("x", no keyboard); the emulator's `press` carries the real one from its chat state.
 */
export const callback = (p: Person, data: string, messageId = 1, updateId = nextUpdateId()): Update =>
  callbackOn(p, { message_id: messageId, date: defaultDate, chat: privateChatOf(p), text: "x" } as Message, data, updateId)

export const callbackIdOf = (updateId: number): string => `cb${updateId}`
