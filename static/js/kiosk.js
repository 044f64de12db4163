// The kiosk tablet: refresh the stamp QR when it changes (every 30 s), show a countdown ring,
// keep the screen awake, and say so plainly when the connection or the login is lost.
(function () {
  "use strict";
  var screen = document.querySelector("[data-kiosk]");
  if (!screen || !screen.dataset.expiresIn) return;

  var qr = screen.querySelector("[data-kiosk-qr]");
  var ring = screen.querySelector("[data-kiosk-ring]");
  var seconds = screen.querySelector("[data-kiosk-seconds]");
  var offline = screen.querySelector("[data-kiosk-offline]");
  var loggedOut = screen.querySelector("[data-kiosk-loggedout]");
  var rotation = Number(screen.dataset.rotation) || 30;
  var expiresAt = Date.now() + Number(screen.dataset.expiresIn) * 1000;
  var fetching = false;
  var retryAt = 0;

  function paint() {
    var left = Math.max(0, (expiresAt - Date.now()) / 1000);
    seconds.textContent = String(Math.ceil(left));
    ring.style.strokeDashoffset = String(100 - (100 * left) / rotation);
    screen.classList.toggle("ending", left <= 5);
  }

  function refresh() {
    if (fetching) return;
    fetching = true;
    fetch(screen.dataset.tokenUrl, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (response.redirected || type.indexOf("application/json") === -1) {
          var error = new Error("logged out");
          error.loggedOut = true;
          throw error;
        }
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        qr.innerHTML = data.svg;
        qr.dataset.url = data.url;
        expiresAt = Date.now() + Number(data.expires_in) * 1000;
        screen.classList.remove("stale");
        offline.hidden = true;
        loggedOut.hidden = true;
        screen.classList.remove("swap");
        void screen.offsetWidth; // restart the swap animation
        screen.classList.add("swap");
      })
      .catch(function (error) {
        screen.classList.add("stale");
        if (error.loggedOut) loggedOut.hidden = false;
        else offline.hidden = false;
        retryAt = Date.now() + 5000;
      })
      .then(function () { fetching = false; });
  }

  function tick() {
    paint();
    if (Date.now() >= expiresAt && Date.now() >= retryAt) refresh();
  }
  setInterval(tick, 250);
  tick();
  document.addEventListener("visibilitychange", function () { if (!document.hidden) tick(); });

  // Keep the tablet's screen on while the kiosk shows (where the browser allows it).
  var wakeLock = null;
  function keepAwake() {
    if (!("wakeLock" in navigator) || document.hidden) return;
    navigator.wakeLock.request("screen").then(function (lock) {
      wakeLock = lock;
      lock.addEventListener("release", function () { wakeLock = null; });
    }).catch(function () {});
  }
  keepAwake();
  document.addEventListener("visibilitychange", function () { if (!document.hidden && !wakeLock) keepAwake(); });

  var full = screen.querySelector("[data-kiosk-fullscreen]");
  if (full && document.documentElement.requestFullscreen) {
    full.hidden = false;
    full.addEventListener("click", function () {
      if (document.fullscreenElement) document.exitFullscreen();
      else document.documentElement.requestFullscreen().catch(function () {});
    });
  }
})();
