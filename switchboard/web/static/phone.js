// The browser phone: JsSIP registers the user's WebRTC endpoint over Asterisk's
// WebSocket transport, answers and places calls (DTLS-SRTP media, ICE).
(function () {
  "use strict";
  var root = document.querySelector("[data-phone]");
  if (!root || !window.JsSIP) return;
  var $ = function (sel) { return root.querySelector(sel); };
  var regState = $("[data-reg-state]"), log = $("[data-phone-log]"), remote = $("[data-remote]");
  var incoming = $("[data-incoming]"), inCall = $("[data-in-call]"), dial = $("[data-dial]");
  var ua = null, current = null, timer = null, started = 0;

  function setState(text, tone) {
    regState.textContent = text;
    regState.className = "badge badge-" + tone;
    root.setAttribute("data-state", text.toLowerCase());
  }
  function say(text) { log.textContent = text; }
  function fmt(s) { s = Math.floor(s); return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0"); }

  function showCall(session, peer) {
    current = session;
    incoming.hidden = true;
    inCall.hidden = false;
    $("[data-peer]").textContent = peer;
    root.setAttribute("data-call", "ringing");
  }

  function attach(session) {
    var peer = session.remote_identity.uri.user;
    session.on("peerconnection", function (e) { wire(e.peerconnection); });
    if (session.connection) wire(session.connection);
    session.on("confirmed", function () {
      started = Date.now();
      root.setAttribute("data-call", "connected");
      say("Connected with " + peer);
      timer = setInterval(function () { $("[data-call-timer]").textContent = fmt((Date.now() - started) / 1000); }, 500);
    });
    session.on("ended", function (e) { finish("Call ended (" + e.cause + ")"); });
    session.on("failed", function (e) { finish("Call failed (" + e.cause + ")"); });
  }

  function wire(pc) {
    pc.addEventListener("track", function (e) {
      if (e.streams && e.streams[0]) remote.srcObject = e.streams[0];
    });
  }

  function finish(text) {
    clearInterval(timer);
    current = null;
    inCall.hidden = true;
    incoming.hidden = true;
    root.setAttribute("data-call", "idle");
    say(text);
  }

  var options = {
    mediaConstraints: { audio: true, video: false },
    pcConfig: { iceServers: [] },
    rtcOfferConstraints: { offerToReceiveAudio: true, offerToReceiveVideo: false },
  };

  fetch(root.getAttribute("data-config"), { credentials: "same-origin", cache: "no-store" })
    .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
    .then(function (cfg) {
      ua = new window.JsSIP.UA({
        sockets: [new window.JsSIP.WebSocketInterface(cfg.ws_url)],
        uri: cfg.uri,
        password: cfg.password,
        display_name: cfg.display_name,
        register: true,
        session_timers: false,
        user_agent: "Switchboard browser phone",
      });
      ua.on("connecting", function () { setState("Connecting…", "muted"); });
      ua.on("disconnected", function () { setState("Disconnected", "bad"); });
      ua.on("registered", function () { retries = 0; setState("Registered", "ok"); say("Ready for calls."); });
      ua.on("unregistered", function () { setState("Not registered", "bad"); });
      // A phone set up a moment ago reaches Asterisk with its next configuration
      // reload (well under a second): try again for a little while before giving up.
      var retries = 0;
      ua.on("registrationFailed", function (e) {
        if (retries++ < 15) { setState("Connecting…", "muted"); setTimeout(function () { ua.register(); }, 1000); return; }
        setState("Registration failed", "bad"); say(e.cause);
      });
      ua.on("newRTCSession", function (e) {
        var session = e.session;
        if (e.originator === "remote") {
          if (current) { session.terminate({ status_code: 486 }); return; }
          current = session;
          attach(session);
          var who = session.remote_identity, number = who.uri.user;
          $("[data-incoming-from]").textContent =
            who.display_name && who.display_name !== number ? who.display_name + " (" + number + ")" : number;
          incoming.hidden = false;
          root.setAttribute("data-call", "incoming");
          $("[data-answer]").focus();
        }
      });
      ua.start();
    })
    .catch(function (err) { setState("Unavailable", "bad"); say(String(err)); });

  $("[data-answer]").addEventListener("click", function () {
    if (!current) return;
    showCall(current, current.remote_identity.uri.user);
    current.answer(options);
  });
  $("[data-decline]").addEventListener("click", function () {
    if (current) current.terminate({ status_code: 486, reason_phrase: "Busy Here" });
  });
  $("[data-hangup]").addEventListener("click", function () { if (current) current.terminate(); });
  $("[data-mute]").addEventListener("click", function (e) {
    if (!current) return;
    var muted = current.isMuted().audio;
    if (muted) current.unmute({ audio: true }); else current.mute({ audio: true });
    e.target.setAttribute("aria-pressed", String(!muted));
    e.target.textContent = muted ? "Mute" : "Unmute";
  });
  root.querySelectorAll("[data-key]").forEach(function (key) {
    key.addEventListener("click", function () {
      var k = key.getAttribute("data-key");
      if (current && current.isEstablished()) current.sendDTMF(k);
      else dial.elements.to.value += k;
    });
  });
  dial.addEventListener("submit", function (e) {
    e.preventDefault();
    var to = dial.elements.to.value.replace(/[\s().-]/g, "");
    if (!ua || !to || current) return;
    var target = to.indexOf("sip:") === 0 ? to : "sip:" + to + "@" + ua.configuration.uri.host;
    var session = ua.call(target, options);
    attach(session);
    showCall(session, to);
    say("Calling " + to + "…");
  });
})();
