/** Answers that will not change on retry: 4xx other than 408 (timeout) and 429 (too many requests). */
export function isFinalStatus(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}
