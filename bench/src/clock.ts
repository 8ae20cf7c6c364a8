/** Epoch ms with sub-millisecond resolution, comparable between the bench's processes. */
export const now = (): number => performance.timeOrigin + performance.now()
