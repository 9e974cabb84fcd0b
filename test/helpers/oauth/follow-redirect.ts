import { request as httpsRequest } from "node:https";

/** One GET like a browser would make (trusting `ca`): the 302's target, or an error for any other answer. */
export function followRedirect(url: URL, ca: string): Promise<URL> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method: "GET", ca }, (res) => {
      res.resume();
      const location = res.headers.location;
      if (res.statusCode !== 302 || !location) return reject(new Error(`authorize answered ${res.statusCode}`));
      resolve(new URL(location, url));
    });
    req.on("error", reject);
    req.end();
  });
}
