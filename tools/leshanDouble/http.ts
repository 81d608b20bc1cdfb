/** Small HTTP answer helpers shaped like what Jetty and the demo servlets write. */

export interface HttpAnswer {
  status: number;
  body: string;
  /** Absent when the servlet sets none (handleException, 504, L15's "no registered client"). */
  contentType?: string;
  headers?: Record<string, string>;
}

export const JSON_TYPE = 'application/json';
/** LeshanDemoServlet.safelySendError (LM). */
export const LM_TEXT_TYPE = 'text/plain; charset=UTF-8';

export const json = (body: string): HttpAnswer => ({ status: 200, body, contentType: JSON_TYPE });
export const bare = (status: number, body: string): HttpAnswer => ({ status, body });
export const lmText = (status: number, body: string): HttpAnswer => ({ status, body, contentType: LM_TEXT_TYPE });

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Jetty 11 ErrorHandler page, as sent by resp.sendError() or for an exception escaping a servlet. */
export function jettyError(status: number, message: string, uri: string): HttpAnswer {
  const m = esc(message);
  const body =
    '<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html;charset=ISO-8859-1"/>\n' +
    `<title>Error ${status} ${m}</title>\n</head>\n<body><h2>HTTP ERROR ${status} ${m}</h2>\n<table>\n` +
    `<tr><th>URI:</th><td>${esc(uri)}</td></tr>\n<tr><th>STATUS:</th><td>${status}</td></tr>\n` +
    `<tr><th>MESSAGE:</th><td>${m}</td></tr>\n</table>\n\n</body>\n</html>\n`;
  return { status, body, contentType: 'text/html;charset=iso-8859-1' };
}
