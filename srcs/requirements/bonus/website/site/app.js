/* Fill the page with this installation's values (env.json, written at
 * container start) and probe the published web ports from the browser. */
"use strict";

function fill(env) {
  const bind = env.bind === "0.0.0.0" ? location.hostname : env.bind;
  const values = {
    "https": String(env.https),
    "https-url": "https://" + env.domain + (env.https === 443 ? "" : ":" + env.https),
    "site": String(env.site),
    "adminer": String(env.adminer),
    "adminer-url": "http://" + bind + ":" + env.adminer + "/",
    "ftp": String(env.ftp),
    "ftp_pasv": env.ftp_pasv,
    "bind": env.bind,
    "backups": "/home/" + env.domain.split(".")[0] + "/data/backups",
  };
  document.querySelectorAll("[data-env]").forEach((el) => {
    const v = values[el.dataset.env];
    if (v !== undefined) el.textContent = v;
  });
  return [
    { name: "WordPress (nginx)", url: values["https-url"] + "/" },
    { name: "Adminer", url: values["adminer-url"] },
    { name: "This site", url: location.origin + "/" },
  ];
}

function probe(list, target) {
  const li = document.createElement("li");
  li.textContent = target.name + ": " + target.url + " ...";
  list.appendChild(li);
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), 4000);
  /* no-cors: the answer is opaque, but a network error still rejects. */
  fetch(target.url, { mode: "no-cors", signal: ctl.signal, cache: "no-store" })
    .then(() => { li.className = "ok"; li.textContent = target.name + ": answered (" + target.url + ")"; })
    .catch(() => { li.className = "bad"; li.textContent = target.name + ": no answer (" + target.url + ")"; })
    .finally(() => clearTimeout(timer));
}

document.addEventListener("DOMContentLoaded", () => {
  const list = document.getElementById("probes");
  fetch("env.json", { cache: "no-store" })
    .then((r) => (r.ok ? r.json() : Promise.reject(new Error(r.status))))
    .then((env) => {
      list.textContent = "";
      fill(env).forEach((t) => probe(list, t));
    })
    .catch(() => { list.innerHTML = "<li>env.json not available: using the defaults shown.</li>"; });
});
