// The playground page: the chat of the chosen demo person with the bot, and the channel, kept live from the server's
// event stream (a full state on every connect, then each change). Everything is drawn with DOM calls and text nodes.
import { renderText, safeUrl } from "./render.js"

const $ = (id) => document.getElementById(id)

const view = {
  session: undefined,
  bot: { name: "the bot", username: "" },
  channel: { chatId: 0, title: "Channel", username: "" },
  people: [],
  /** chatId → { messages: Map<messageId, Message>, replyKeyboard } */
  chats: new Map(),
  current: undefined,
  /** personId → bot messages not seen yet */
  unread: new Map()
}

// ---- the live connection ------------------------------------------------------------------------------------------

const connect = () => {
  const events = new EventSource("/api/events")
  events.addEventListener("open", () => {
    $("connection").hidden = true
  })
  events.addEventListener("error", () => {
    $("connection").textContent = "Connection lost, reconnecting…"
    $("connection").hidden = false
  })
  events.addEventListener("state", (event) => loadState(JSON.parse(event.data)))
  events.addEventListener("change", (event) => applyChange(JSON.parse(event.data)))
}

const loadState = (state) => {
  const newSession = view.session !== state.session
  view.session = state.session
  view.bot = state.bot
  view.channel = state.channel
  view.people = state.people
  view.chats = new Map(
    state.chats.map((chat) => [
      chat.chatId,
      { messages: new Map(chat.messages.map((m) => [m.message_id, m])), replyKeyboard: chat.replyKeyboard }
    ])
  )
  if (newSession) view.unread = new Map()
  if (!view.people.some((p) => p.id === view.current)) view.current = view.people[0]?.id
  document.body.removeAttribute("aria-busy")
  $("bot-name").textContent = view.bot.name
  $("channel-name").textContent = view.channel.title
  const notes = $("notes")
  notes.replaceChildren(
    ...state.notes.map((note) => {
      const li = document.createElement("li")
      li.textContent = note
      return li
    })
  )
  drawPeople()
  drawChat()
  drawChannel()
  document.body.dataset.ready = "true"
}

const chatOf = (chatId) => {
  let chat = view.chats.get(chatId)
  if (chat === undefined) {
    chat = { messages: new Map(), replyKeyboard: null }
    view.chats.set(chatId, chat)
  }
  return chat
}

const applyChange = (change) => {
  const chat = chatOf(change.chatId)
  const isChannel = change.chatId === view.channel.chatId
  const shown = isChannel || change.chatId === view.current
  if (change.kind === "message") {
    const known = chat.messages.has(change.message.message_id)
    chat.messages.set(change.message.message_id, change.message)
    if (!isChannel) chat.replyKeyboard = change.replyKeyboard
    if (shown) {
      const log = isChannel ? $("channel-log") : $("chat-log")
      placeMessage(log, change.message, known)
      if (!isChannel) drawReplyKeyboard()
    } else if (!known && change.message.from?.is_bot) {
      view.unread.set(change.chatId, (view.unread.get(change.chatId) ?? 0) + 1)
      drawPeople()
    }
  } else if (change.kind === "deleted") {
    chat.messages.delete(change.messageId)
    if (shown) (isChannel ? $("channel-log") : $("chat-log")).querySelector(`[data-id="${change.messageId}"]`)?.remove()
  } else if (change.kind === "answer") {
    if (!shown || change.text === null || change.text === "") return
    if (change.showAlert) showAlert(change.text)
    else toast(change.text)
  }
}

// ---- drawing ------------------------------------------------------------------------------------------------------

const personOf = (id) => view.people.find((p) => p.id === id)

const drawPeople = () => {
  const list = $("people")
  list.replaceChildren(
    ...view.people.map((person) => {
      const tab = document.createElement("button")
      tab.type = "button"
      tab.setAttribute("role", "tab")
      tab.id = `person-${person.id}`
      tab.dataset.person = String(person.id)
      tab.setAttribute("aria-controls", "chat-log")
      const selected = person.id === view.current
      tab.setAttribute("aria-selected", String(selected))
      tab.tabIndex = selected ? 0 : -1
      const name = document.createElement("span")
      name.textContent = person.name
      const role = document.createElement("span")
      role.className = `role ${person.role}`
      role.textContent = person.role
      tab.append(name, " ", role)
      const unread = view.unread.get(person.id) ?? 0
      if (unread > 0) {
        const badge = document.createElement("span")
        badge.className = "unread"
        badge.textContent = String(unread)
        badge.setAttribute("aria-label", `${unread} new`)
        tab.append(" ", badge)
      }
      return tab
    })
  )
  const person = personOf(view.current)
  $("text-label").textContent = person === undefined ? "Message" : `Message to the bot as ${person.name}`
}

const select = (personId, focusTab = false) => {
  if (personOf(personId) === undefined) return
  view.current = personId
  view.unread.delete(personId)
  drawPeople()
  drawChat()
  if (focusTab) $(`person-${personId}`)?.focus()
}

const sorted = (chat) => [...chat.messages.values()].sort((a, b) => a.message_id - b.message_id)

const drawChat = () => {
  const log = $("chat-log")
  const chat = chatOf(view.current)
  log.replaceChildren(...sorted(chat).map(drawMessage))
  if (chat.messages.size === 0) log.append(emptyNote("No messages yet. Send /start to begin."))
  drawReplyKeyboard()
  log.scrollTop = log.scrollHeight
}

const drawChannel = () => {
  const log = $("channel-log")
  const chat = chatOf(view.channel.chatId)
  log.replaceChildren(...sorted(chat).map(drawMessage))
  if (chat.messages.size === 0) log.append(emptyNote("Nothing posted yet. Approved confessions appear here."))
  log.scrollTop = log.scrollHeight
}

const emptyNote = (text) => {
  const li = document.createElement("li")
  li.className = "empty"
  li.textContent = text
  return li
}

/** Replaces the message's element in place, or appends it (keeping the log scrolled to the end if it was there). */
const placeMessage = (log, message, known) => {
  const element = drawMessage(message)
  const existing = log.querySelector(`[data-id="${message.message_id}"]`)
  if (existing !== null) {
    existing.replaceWith(element)
    if (known) flash(element)
    return
  }
  log.querySelector(".empty")?.remove()
  const atEnd = log.scrollHeight - log.scrollTop - log.clientHeight < 80
  const later = [...log.children].find((child) => Number(child.dataset.id) > message.message_id)
  if (later === undefined) log.append(element)
  else later.before(element)
  if (atEnd) log.scrollTop = log.scrollHeight
}

const flash = (element) => {
  element.classList.add("changed")
  setTimeout(() => element.classList.remove("changed"), 1200)
}

const drawMessage = (message) => {
  const li = document.createElement("li")
  const fromBot = message.from?.is_bot === true || message.sender_chat !== undefined
  li.className = `message ${fromBot ? "incoming" : "outgoing"}`
  li.dataset.id = String(message.message_id)
  const bubble = document.createElement("div")
  bubble.className = "bubble"
  const who = document.createElement("span")
  who.className = "visually-hidden"
  who.textContent = fromBot ? `${view.bot.name}: ` : "You: "
  bubble.append(who)
  bubble.append(...drawContent(message))
  const meta = document.createElement("div")
  meta.className = "meta"
  if (message.edit_date !== undefined) {
    const edited = document.createElement("span")
    edited.className = "edited"
    edited.textContent = "edited"
    meta.append(edited, " ")
  }
  const time = document.createElement("time")
  const date = new Date(message.date * 1000)
  time.dateTime = date.toISOString()
  time.textContent = date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
  meta.append(time)
  bubble.append(meta)
  li.append(bubble)
  const keyboard = message.reply_markup?.inline_keyboard
  if (Array.isArray(keyboard) && keyboard.length > 0) li.append(drawInlineKeyboard(message, keyboard))
  return li
}

const drawContent = (message) => {
  const parts = []
  const largest = Array.isArray(message.photo) ? message.photo[message.photo.length - 1] : undefined
  if (largest !== undefined) {
    const img = document.createElement("img")
    img.className = "photo"
    img.src = `/api/files/${encodeURIComponent(largest.file_id)}`
    img.alt = "Photo"
    img.width = 240
    img.height = 180
    parts.push(img)
  }
  if (message.voice !== undefined) parts.push(line("media", `🎤 Voice message, 0:${String(message.voice.duration ?? 0).padStart(2, "0")}`))
  if (message.document !== undefined) parts.push(line("media", `📄 ${message.document.file_name ?? "Document"}`))
  if (message.sticker !== undefined) parts.push(line("sticker", message.sticker.emoji ?? "🖼️"))
  const text = message.text ?? message.caption
  if (typeof text === "string" && text.length > 0) {
    const div = document.createElement("div")
    div.className = "text"
    div.append(renderText(text, message.text !== undefined ? message.entities : message.caption_entities))
    parts.push(div)
  }
  return parts
}

const line = (className, text) => {
  const div = document.createElement("div")
  div.className = className
  div.textContent = text
  return div
}

const drawInlineKeyboard = (message, rows) => {
  const group = document.createElement("div")
  group.className = "inline-keyboard"
  group.setAttribute("role", "group")
  group.setAttribute("aria-label", "Message buttons")
  for (const row of rows) {
    const line = document.createElement("div")
    line.className = "row"
    for (const key of row) {
      if (typeof key.url === "string") {
        const url = safeUrl(key.url)
        const a = document.createElement("a")
        a.className = "key"
        a.textContent = `${key.text} ↗`
        if (url !== undefined) {
          a.href = url
          a.target = "_blank"
          a.rel = "noopener noreferrer"
        }
        line.append(a)
      } else if (typeof key.callback_data === "string") {
        const button = document.createElement("button")
        button.type = "button"
        button.className = "key"
        button.textContent = key.text
        button.dataset.press = key.callback_data
        button.dataset.chat = String(message.chat.id)
        button.dataset.message = String(message.message_id)
        line.append(button)
      } else {
        const span = document.createElement("span")
        span.className = "key"
        span.textContent = key.text
        line.append(span)
      }
    }
    group.append(line)
  }
  return group
}

const drawReplyKeyboard = () => {
  const area = $("reply-keyboard")
  const keyboard = chatOf(view.current).replyKeyboard?.keyboard
  if (!Array.isArray(keyboard) || keyboard.length === 0) {
    area.hidden = true
    area.replaceChildren()
    return
  }
  area.hidden = false
  area.replaceChildren(
    ...keyboard.map((row) => {
      const line = document.createElement("div")
      line.className = "row"
      for (const key of row) {
        const label = typeof key === "string" ? key : key.text
        const button = document.createElement("button")
        button.type = "button"
        button.className = "key"
        button.textContent = label
        button.dataset.say = label
        line.append(button)
      }
      return line
    })
  )
}

// ---- acting -------------------------------------------------------------------------------------------------------

const post = async (path, body) => {
  const response = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body)
  })
  if (!response.ok) {
    const answer = await response.json().catch(() => ({}))
    toast(answer.error ?? `The playground answered ${response.status}`)
  }
  return response.ok
}

const say = (text) => post("/api/send", { person: view.current, text })

/** Links into the bot become `/start <payload>`; links to a channel post scroll to it; others open in a new tab. */
const followLink = (event, href) => {
  const url = safeUrl(href)
  if (url === undefined) return
  const parsed = new URL(url)
  if (parsed.protocol === "tg:") {
    event.preventDefault()
    toast("tg:// links open the Telegram app; the playground has none.")
    return
  }
  if (parsed.hostname !== "t.me" && parsed.hostname !== "telegram.me") return
  const path = parsed.pathname.split("/").filter((part) => part.length > 0)
  if (path.length === 1 && path[0].toLowerCase() === view.bot.username.toLowerCase()) {
    event.preventDefault()
    const start = parsed.searchParams.get("start")
    void say(start === null || start === "" ? "/start" : `/start ${start}`)
    $("text").focus()
    return
  }
  const postId =
    path.length === 2 && path[0].toLowerCase() === view.channel.username.toLowerCase()
      ? path[1]
      : path.length === 3 && path[0] === "c"
        ? path[2]
        : undefined
  if (postId !== undefined) {
    event.preventDefault()
    const target = $("channel-log").querySelector(`[data-id="${Number(postId)}"]`)
    if (target === null) toast("That post is not in the channel any more.")
    else {
      target.scrollIntoView({ block: "center" })
      flash(target)
    }
  }
}

const toast = (text) => {
  const box = $("toast")
  box.textContent = text
  box.classList.add("visible")
  clearTimeout(toast.timer)
  toast.timer = setTimeout(() => box.classList.remove("visible"), 3500)
}

const showAlert = (text) => {
  $("alert-text").textContent = text
  $("alert").showModal()
}

const wire = () => {
  $("composer").addEventListener("submit", async (event) => {
    event.preventDefault()
    const box = $("text")
    const text = box.value
    if (text.trim() === "") return
    if (await say(text)) box.value = ""
    box.focus()
  })
  $("text").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault()
      $("composer").requestSubmit()
    }
  })
  for (const button of document.querySelectorAll("[data-media]")) {
    button.addEventListener("click", async () => {
      const caption = $("text").value
      const ok = await post("/api/send-media", { person: view.current, media: button.dataset.media, caption })
      if (ok && button.dataset.media === "photo") $("text").value = ""
    })
  }
  $("people").addEventListener("click", (event) => {
    const tab = event.target.closest("[data-person]")
    if (tab !== null) select(Number(tab.dataset.person))
  })
  $("people").addEventListener("keydown", (event) => {
    const at = view.people.findIndex((p) => p.id === view.current)
    const step = event.key === "ArrowRight" || event.key === "ArrowDown" ? 1 : event.key === "ArrowLeft" || event.key === "ArrowUp" ? -1 : 0
    if (step === 0 || at < 0) return
    event.preventDefault()
    select(view.people[(at + step + view.people.length) % view.people.length].id, true)
  })
  $("reply-keyboard").addEventListener("click", (event) => {
    const key = event.target.closest("[data-say]")
    if (key !== null) void say(key.dataset.say)
  })
  document.addEventListener("click", (event) => {
    const key = event.target.closest("[data-press]")
    if (key !== null) {
      void post("/api/press", {
        person: view.current,
        chatId: Number(key.dataset.chat),
        messageId: Number(key.dataset.message),
        data: key.dataset.press
      })
      return
    }
    const link = event.target.closest("a[href]")
    if (link !== null) followLink(event, link.getAttribute("href"))
    const spoiler = event.target.closest(".spoiler")
    if (spoiler !== null) reveal(spoiler)
  })
  document.addEventListener("keydown", (event) => {
    if ((event.key === "Enter" || event.key === " ") && event.target.classList?.contains("spoiler")) {
      event.preventDefault()
      reveal(event.target)
    }
  })
  for (const dialog of document.querySelectorAll("dialog")) {
    dialog.addEventListener("click", (event) => {
      if (event.target.closest("[data-close]") !== null) dialog.close()
    })
  }
  $("reset").addEventListener("click", () => $("confirm-reset").showModal())
  $("confirm-reset-button").addEventListener("click", async () => {
    $("confirm-reset").close()
    document.body.setAttribute("aria-busy", "true")
    $("connection").textContent = "Resetting: starting the bot on an empty database…"
    $("connection").hidden = false
    await post("/api/reset", {})
  })
}

const reveal = (spoiler) => {
  spoiler.classList.add("revealed")
  spoiler.setAttribute("aria-pressed", "true")
}

wire()
connect()
