// Builders for Telegram updates and people, so tests read as scripts ("ann sends /confess").
import type { Update } from "grammy/types"

export interface Person {
  readonly id: number
  readonly first_name: string
  readonly username?: string
  readonly last_name?: string
}

export const person = (id: number, firstName: string, username?: string): Person => ({
  id,
  first_name: firstName,
  ...(username !== undefined ? { username } : {})
})

let nextId = 1
/** A fresh, increasing update id (tests that need exact ids pass their own). */
export const freshUpdateId = () => nextId++

const from = (p: Person) => ({ id: p.id, is_bot: false as const, first_name: p.first_name, ...(p.username ? { username: p.username } : {}) })
const privateChat = (p: Person) => ({ id: p.id, type: "private" as const, first_name: p.first_name })

export const text = (p: Person, body: string, updateId = freshUpdateId()): Update => {
  const command = /^\/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?/.exec(body)
  return {
    update_id: updateId,
    message: {
      message_id: updateId,
      date: 1_700_000_000,
      chat: privateChat(p),
      from: from(p),
      text: body,
      ...(command ? { entities: [{ type: "bot_command" as const, offset: 0, length: command[0].length }] } : {})
    }
  }
}

export const photo = (p: Person, updateId = freshUpdateId()): Update => ({
  update_id: updateId,
  message: {
    message_id: updateId,
    date: 1_700_000_000,
    chat: privateChat(p),
    from: from(p),
    photo: [{ file_id: "photo", file_unique_id: "photo", width: 10, height: 10 }]
  }
})

export const callback = (p: Person, data: string, messageId = 1, updateId = freshUpdateId()): Update => ({
  update_id: updateId,
  callback_query: {
    id: `cb${updateId}`,
    from: from(p),
    chat_instance: "ci",
    data,
    message: { message_id: messageId, date: 1_700_000_000, chat: privateChat(p), text: "x" }
  }
})

export const editedText = (p: Person, body: string, updateId = freshUpdateId()): Update => ({
  update_id: updateId,
  edited_message: {
    message_id: updateId,
    date: 1_700_000_000,
    edit_date: 1_700_000_001,
    chat: privateChat(p),
    from: from(p),
    text: body
  }
})
