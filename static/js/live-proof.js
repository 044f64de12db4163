// The redeemed screen proves it is live: a running clock and a counter since redemption.
(function () {
  "use strict";
  var box = document.querySelector("[data-redeemed-at]");
  if (!box) return;
  var at = new Date(box.dataset.redeemedAt).getTime();
  var clock = box.querySelector("[data-clock]");
  var ago = box.querySelector("[data-ago]");
  function pad(n) { return n < 10 ? "0" + n : "" + n; }
  function tick() {
    var now = new Date();
    clock.textContent = pad(now.getHours()) + ":" + pad(now.getMinutes()) + ":" + pad(now.getSeconds());
    var s = Math.max(0, Math.round((now.getTime() - at) / 1000));
    ago.textContent = (s < 60 ? s + " s" : Math.floor(s / 60) + " min " + (s % 60) + " s") + " ago";
  }
  tick();
  setInterval(tick, 1000);
})();
