// The staff counter: camera scanner, stamp stepper, double-tap guard, location picker.
// Everything here is an enhancement: without JavaScript the forms post as they are.

const scannerBox = document.querySelector("[data-scanner]");
const startButton = document.querySelector("[data-scanner-start]");
const unavailableNote = document.querySelector("[data-scanner-unavailable]");
const scanForm = document.querySelector("[data-scan-form]");

// --- camera scanner (qr-scanner, vendored, loaded only when the camera is opened) -------------
let scanner = null;
let scanning = false;

function setStatus(text) {
  const status = scannerBox && scannerBox.querySelector("[data-scanner-status]");
  if (status) status.textContent = text;
}

function submitScanned(value) {
  // Whatever the QR holds (a card URL or token, later a voucher) goes to the server as typed.
  const input = scanForm.querySelector("input[name=code]");
  input.value = value;
  if (navigator.vibrate) navigator.vibrate(60);
  scanForm.requestSubmit ? scanForm.requestSubmit() : scanForm.submit();
}

async function startScanner() {
  if (!scannerBox) return;
  scannerBox.hidden = false;
  startButton.hidden = true;
  setStatus(scannerBox.dataset.msgStarting);
  try {
    const { default: QrScanner } = await import(scannerBox.dataset.lib);
    const video = scannerBox.querySelector("video");
    if (!scanner) {
      scanner = new QrScanner(
        video,
        (result) => {
          if (!scanning) return;
          scanning = false;
          scannerBox.classList.add("found");
          scanner.stop();
          submitScanned(result.data);
        },
        { preferredCamera: "environment", highlightScanRegion: false, maxScansPerSecond: 8 },
      );
    }
    await scanner.start();
    scanning = true;
    scannerBox.classList.add("live");
    setStatus(scannerBox.dataset.msgAim);
  } catch (error) {
    scannerBox.hidden = true;
    startButton.hidden = false;
    showUnavailable(scannerBox.dataset.msgDenied);
  }
}

function stopScanner() {
  scanning = false;
  if (scanner) scanner.stop();
  scannerBox.hidden = true;
  scannerBox.classList.remove("live", "found");
  startButton.hidden = false;
}

function showUnavailable(text) {
  if (!unavailableNote || !text) return;
  unavailableNote.textContent = text;
  unavailableNote.hidden = false;
}

if (scannerBox && startButton) {
  const cameraPossible = window.isSecureContext && navigator.mediaDevices && navigator.mediaDevices.getUserMedia;
  if (cameraPossible) {
    startButton.hidden = false;
    startButton.addEventListener("click", startScanner);
    scannerBox.querySelector("[data-scanner-stop]").addEventListener("click", stopScanner);
    if ("autostart" in scannerBox.dataset) startScanner();
    document.addEventListener("visibilitychange", () => {
      // Free the camera when the phone is locked or the tab hidden; resume on return.
      if (!scanner || scannerBox.hidden) return;
      if (document.hidden) { scanning = false; scanner.stop(); }
      else scanner.start().then(() => { scanning = true; });
    });
  } else {
    showUnavailable(scannerBox.dataset.msgInsecure);
  }
}

// --- stamp forms: one tap, one submit ---------------------------------------------------------
for (const form of document.querySelectorAll("[data-stamp-form]")) {
  form.addEventListener("submit", (event) => {
    if (form.dataset.sent) { event.preventDefault(); return; }
    // Both stamp forms carry the same one-time nonce; lock them all after the first tap.
    for (const other of document.querySelectorAll("[data-stamp-form]")) {
      other.dataset.sent = "1";
      for (const button of other.querySelectorAll("button")) button.disabled = true;
    }
    const pressed = event.submitter || form.querySelector("button:not([type=button])");
    if (pressed) pressed.classList.add("busy");
  });
}

// Coming back with the browser's back button shows the cached page: unlock it.
window.addEventListener("pageshow", (event) => {
  if (!event.persisted) return;
  for (const form of document.querySelectorAll("[data-stamp-form]")) {
    delete form.dataset.sent;
    for (const button of form.querySelectorAll("button")) { button.disabled = false; button.classList.remove("busy"); }
  }
});

// --- stepper: − n + and a label in the right plural --------------------------------------------
const stepper = document.querySelector("[data-stepper]");
if (stepper) {
  const input = stepper.querySelector("input[name=count]");
  const label = stepper.querySelector("[data-count-label]");
  const labelsNode = document.getElementById("count-labels");
  const labels = labelsNode ? JSON.parse(labelsNode.textContent) : {};
  const min = Number(input.min) || 1;
  const max = Number(input.max) || 10;
  const render = () => {
    const n = Math.min(max, Math.max(min, Number(input.value) || min));
    if (labels[n]) label.textContent = labels[n];
    stepper.querySelector("[data-step='-1']").disabled = n <= min;
    stepper.querySelector("[data-step='1']").disabled = n >= max;
  };
  for (const button of stepper.querySelectorAll("[data-step]")) {
    button.hidden = false;
    button.addEventListener("click", () => {
      const n = (Number(input.value) || min) + Number(button.dataset.step);
      input.value = String(Math.min(max, Math.max(min, n)));
      render();
    });
  }
  input.addEventListener("input", render);
  render();
}

// --- location: change on select ---------------------------------------------------------------
const locationForm = document.querySelector("[data-location-form]");
if (locationForm) {
  const submit = locationForm.querySelector("[data-location-submit]");
  if (submit) submit.hidden = true;
  locationForm.querySelector("select").addEventListener("change", () => locationForm.submit());
}
