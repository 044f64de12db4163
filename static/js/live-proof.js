// The redeemed screen proves it is live: a running clock and a counter since redemption.
(function () {
  "use strict";
  var box = document.querySelector("[data-redeemed-at]");
  if (!box) return;
  var at = new Date(box.dataset.redeemedAt).getTime();
  var clock = box.querySelector("[data-clock]");
  var ago = box.querySelector("[data-ago]");
  // The business's clock, like the "Redeemed at" time printed by the server.
  var format;
  try {
    format = new Intl.DateTimeFormat("en-GB", { timeZone: box.dataset.tz, hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  } catch (e) {
    format = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  }
  function tick() {
    var now = new Date();
    clock.textContent = format.format(now);
    var s = Math.max(0, Math.round((now.getTime() - at) / 1000));
    ago.textContent = (s < 60 ? s + " s" : Math.floor(s / 60) + " min " + (s % 60) + " s") + " ago";
  }
  tick();
  setInterval(tick, 1000);
})();
