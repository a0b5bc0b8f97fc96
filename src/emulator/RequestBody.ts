// The parameters of a Bot API request, however the client sent them: a JSON body (grammY's usual way), a
// multipart/form-data body (file uploads: fields are strings, objects JSON-encoded, files referenced as
// `attach://<part>` or sent under the parameter's own name), a urlencoded body, or the query string. Telegram
// coerces form values by parameter; the few numeric and boolean parameters tests compare are coerced here likewise.
import { Result } from "effect"

export interface UploadedFile {
  /** The parameter the file was given for (`document`, `photo`, …). */
  readonly field: string
  readonly fileName: string
  readonly size: number
  readonly contentType: string | undefined
  /** The uploaded bytes, so a test can read what was sent (a document's text). */
  readonly content: Buffer
}

export interface RequestParameters {
  readonly body: Record<string, unknown>
  /** The body as sent for JSON; the decoded fields as JSON otherwise (file contents left out). */
  readonly raw: string
  readonly files: ReadonlyArray<UploadedFile>
}

export type ParseResult =
  | { readonly _tag: "Parsed"; readonly parameters: RequestParameters }
  | { readonly _tag: "Invalid"; readonly description: string }

const empty: RequestParameters = { body: {}, raw: "", files: [] }

export const parse = (contentType: string | undefined, data: Buffer, query: string): ParseResult => {
  const type = (contentType ?? "").toLowerCase()
  if (type.startsWith("multipart/form-data")) return parseMultipart(contentType ?? "", data)
  if (data.length === 0) return query.length === 0 ? parsed(empty) : parsed(fromFields(new URLSearchParams(query)))
  if (type.startsWith("application/x-www-form-urlencoded")) {
    return parsed(fromFields(new URLSearchParams(data.toString("utf8"))))
  }
  const raw = data.toString("utf8")
  const value = parseJson(raw)
  if (value === undefined) return { _tag: "Invalid", description: "Bad Request: can't parse JSON" }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return parsed({ body: {}, raw, files: [] })
  return parsed({ body: value as Record<string, unknown>, raw, files: [] })
}

const parsed = (parameters: RequestParameters): ParseResult => ({ _tag: "Parsed", parameters })

const parseJson = (raw: string): unknown => Result.getOrUndefined(Result.try(() => JSON.parse(raw) as unknown))

const numeric = new Set([
  "chat_id",
  "message_id",
  "from_chat_id",
  "reply_to_message_id",
  "message_thread_id",
  "offset",
  "limit",
  "timeout",
  "duration",
  "width",
  "height",
  "cache_time",
  "max_connections"
])
const booleans = new Set([
  "disable_notification",
  "protect_content",
  "show_alert",
  "has_spoiler",
  "drop_pending_updates",
  "disable_web_page_preview",
  "allow_sending_without_reply",
  "disable_content_type_detection"
])

/** A form value as Telegram reads it for `name`. */
const coerce = (name: string, value: string): unknown => {
  if (numeric.has(name) && /^-?\d+$/.test(value)) return Number(value)
  if (booleans.has(name) && (value === "true" || value === "false")) return value === "true"
  const first = value.trimStart()[0]
  if (first === "{" || first === "[") {
    const json = parseJson(value)
    if (json !== undefined) return json
  }
  return value
}

const fromFields = (fields: Iterable<[string, string]>, files: ReadonlyArray<UploadedFile> = []): RequestParameters => {
  const body: Record<string, unknown> = {}
  for (const [name, value] of fields) body[name] = coerce(name, value)
  return { body, raw: JSON.stringify(body), files }
}

interface Part {
  readonly name: string
  readonly fileName: string | undefined
  readonly contentType: string | undefined
  readonly data: Buffer
}

const parseMultipart = (contentType: string, data: Buffer): ParseResult => {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType)
  const marker = boundary?.[1] ?? boundary?.[2]
  if (marker === undefined) return { _tag: "Invalid", description: "Bad Request: multipart boundary is missing" }
  const parts = splitParts(data, Buffer.from(`--${marker.trim()}`))
  const fields: Array<[string, string]> = []
  const fileParts = new Map<string, Part>()
  for (const part of parts) {
    if (part.fileName === undefined) fields.push([part.name, part.data.toString("utf8")])
    else fileParts.set(part.name, part)
  }
  const files: Array<UploadedFile> = []
  const fileOf = (field: string, part: Part): UploadedFile => ({
    field,
    fileName: part.fileName ?? part.name,
    size: part.data.length,
    contentType: part.contentType,
    content: Buffer.from(part.data)
  })
  // A field naming `attach://<part>` gets that part; a file part named like a parameter is that parameter's file.
  const named = new Set<string>()
  for (const [name, value] of fields) {
    const attached = /^attach:\/\/(.+)$/.exec(value)
    const part = attached === null ? undefined : fileParts.get(attached[1] ?? "")
    if (part !== undefined) {
      files.push(fileOf(name, part))
      named.add(part.name)
    }
  }
  for (const [name, part] of fileParts) {
    if (named.has(name)) continue
    files.push(fileOf(name, part))
    fields.push([name, `attach://${name}`])
  }
  return parsed(fromFields(fields, files))
}

const splitParts = (data: Buffer, delimiter: Buffer): Array<Part> => {
  const parts: Array<Part> = []
  let at = data.indexOf(delimiter)
  while (at >= 0) {
    const start = at + delimiter.length
    // "--" after the delimiter closes the body.
    if (data[start] === 45 && data[start + 1] === 45) break
    const next = data.indexOf(delimiter, start)
    if (next < 0) break
    const chunk = data.subarray(skipLineBreak(data, start), trimLineBreak(data, next))
    const headerEnd = chunk.indexOf("\r\n\r\n")
    if (headerEnd >= 0) {
      const headers = chunk.subarray(0, headerEnd).toString("utf8")
      const disposition = /content-disposition:\s*form-data\s*;([^\r\n]*)/i.exec(headers)?.[1] ?? ""
      const name = /(?:^|;)\s*name=(?:"([^"]*)"|([^;\s]*))/i.exec(disposition)
      const fileName = /(?:^|;)\s*filename=(?:"([^"]*)"|([^;\r\n]*))/i.exec(disposition)
      const type = /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1]
      parts.push({
        name: name?.[1] ?? name?.[2] ?? "",
        fileName: fileName === null ? undefined : (fileName[1] ?? fileName[2] ?? "").trim(),
        contentType: type?.trim(),
        data: chunk.subarray(headerEnd + 4)
      })
    }
    at = next
  }
  return parts
}

const skipLineBreak = (data: Buffer, at: number) => (data[at] === 13 && data[at + 1] === 10 ? at + 2 : at)

const trimLineBreak = (data: Buffer, at: number) => (data[at - 2] === 13 && data[at - 1] === 10 ? at - 2 : at)
