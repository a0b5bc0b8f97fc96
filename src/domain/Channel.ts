// Addressing the community channel (CHANNEL_ID): the chat id the Bot API takes, and a post's public link.

/** CHANNEL_ID as the Bot API takes it: a number for `-100…` ids, the `@name` string otherwise. */
export const chatId = (channelId: string): number | string => {
  const trimmed = channelId.trim()
  return /^-?[0-9]{1,16}$/.test(trimmed) && Number.isSafeInteger(Number(trimmed)) ? Number(trimmed) : trimmed
}

/**
 * The public link of a channel post: `https://t.me/c/<id without -100>/<message>` for a numeric channel id,
 * `https://t.me/<name>/<message>` for `@name`; `undefined` for ids that have no such link (basic groups).
 */
export const postUrl = (channelId: string, messageId: number): string | undefined => {
  const trimmed = channelId.trim()
  const numeric = /^-100([0-9]{1,16})$/.exec(trimmed)?.[1]
  if (numeric !== undefined) return `https://t.me/c/${numeric}/${messageId}`
  const name = /^@([A-Za-z0-9_]{1,64})$/.exec(trimmed)?.[1]
  return name === undefined ? undefined : `https://t.me/${name}/${messageId}`
}
