/** Prometheus label values in one style, snake_case: an outcome named `deviceError` in code is `device_error` on /metrics. Pure. */
export function snakeLabel(value: string): string {
  return value.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
