// The lab page's terminal player: replays an asciicast v2 recording that the lab made of
// itself (`python -m demo record`), with its real timings, from a file served by the site.
//
// Written here rather than taken from asciinema's player: the site builds without npm, and the
// lab's output needs only a small part of a terminal (text, colours, carriage returns, the
// cursor moving up to redraw progress, erasing a line). Text goes in with textContent and
// colours through element.style, never as HTML, so a recording cannot inject markup.
(function () {
  "use strict";

  var BASE16 = 16;
  // What the player accepts, whatever a recording says: one escape sequence that moves the
  // cursor ten million columns must not make ten million cells.
  var MAX_COLUMNS = 500, MAX_ROWS = 200, MAX_LINES = 20000;

  function Screen(width, height) {
    this.width = width;
    this.height = height;
    this.lines = [[]];
    this.row = 0;
    this.col = 0;
    this.style = {};
    this.state = "text";
    this.params = "";
  }

  Screen.prototype.line = function () {
    while (this.lines.length <= this.row) this.lines.push([]);
    if (this.lines.length > MAX_LINES) { // scrollback kept to its last MAX_LINES lines
      var dropped = this.lines.length - MAX_LINES;
      this.lines.splice(0, dropped);
      this.row -= dropped;
    }
    return this.lines[this.row];
  };

  // The lowest row the cursor may reach: the screen's last, below the scrollback.
  Screen.prototype.bottom = function () {
    return Math.max(this.lines.length - 1, Math.max(0, this.lines.length - this.height) + this.height - 1);
  };

  Screen.prototype.put = function (ch) {
    if (this.col >= this.width) { this.col = 0; this.row += 1; } // the terminal wraps
    var line = this.line();
    while (line.length < this.col) line.push({ ch: " ", style: {} });
    line[this.col] = { ch: ch, style: this.style };
    this.col += 1;
  };

  Screen.prototype.sgr = function (codes) {
    var style = Object.assign({}, this.style);
    var list = codes.length ? codes.split(";").map(Number) : [0];
    for (var i = 0; i < list.length; i++) {
      var code = list[i];
      if (code === 0) style = {};
      else if (code === 1) style.bold = true;
      else if (code === 2) style.dim = true;
      else if (code === 3) style.italic = true;
      else if (code === 4) style.underline = true;
      else if (code === 22) { delete style.bold; delete style.dim; }
      else if (code === 23) delete style.italic;
      else if (code === 24) delete style.underline;
      else if (code >= 30 && code <= 37) style.fg = code - 30;
      else if (code >= 90 && code <= 97) style.fg = code - 90 + 8;
      else if (code === 39) delete style.fg;
      else if (code >= 40 && code <= 47) style.bg = code - 40;
      else if (code >= 100 && code <= 107) style.bg = code - 100 + 8;
      else if (code === 49) delete style.bg;
      else if ((code === 38 || code === 48) && list[i + 1] === 5) {
        style[code === 38 ? "fg" : "bg"] = list[i + 2];
        i += 2;
      } else if ((code === 38 || code === 48) && list[i + 1] === 2) {
        style[code === 38 ? "fg" : "bg"] = "rgb(" + list.slice(i + 2, i + 5).join(",") + ")";
        i += 4;
      }
    }
    this.style = style;
  };

  Screen.prototype.csi = function (params, command) {
    if (params.charAt(0) === "?") return; // private modes: cursor shown or hidden
    var n = params === "" ? 1 : Math.min(Number(params.split(";")[0]) || 0, MAX_COLUMNS * MAX_LINES);
    var line;
    switch (command) {
      case "m": this.sgr(params); break;
      case "A": this.row = Math.max(0, this.row - Math.max(1, n)); break;
      case "B": this.row = Math.min(this.bottom(), this.row + Math.max(1, n)); break;
      case "C": this.col = Math.min(this.width - 1, this.col + Math.max(1, n)); break;
      case "D": this.col = Math.max(0, this.col - Math.max(1, n)); break;
      case "G": this.col = Math.min(this.width - 1, Math.max(0, n - 1)); break;
      case "K":
        line = this.line();
        if (params === "2") line.length = 0;
        else if (params === "1") for (var i = 0; i < Math.min(this.col, line.length); i++) line[i] = { ch: " ", style: {} };
        else line.length = Math.min(line.length, this.col);
        break;
      case "J":
        if (params === "2" || params === "3") { this.lines = [[]]; this.row = 0; this.col = 0; }
        else { this.line().length = Math.min(this.line().length, this.col); this.lines.length = this.row + 1; }
        break;
      default: break; // anything else the lab does not print
    }
  };

  Screen.prototype.write = function (text) {
    for (var i = 0; i < text.length; i++) {
      var ch = text.charAt(i);
      if (this.state === "esc") {
        if (ch === "[") { this.state = "csi"; this.params = ""; }
        else if (ch === "]") this.state = "osc";
        else this.state = "text";
      } else if (this.state === "csi") {
        if (/[0-9;?]/.test(ch)) this.params += ch;
        else { this.csi(this.params, ch); this.state = "text"; }
      } else if (this.state === "osc") {
        if (ch === "\u0007") this.state = "text";
        else if (ch === "\u001b") this.state = "osc-end";
      } else if (this.state === "osc-end") {
        this.state = "text"; // ESC \ ends a hyperlink or a title
      } else if (ch === "\u001b") this.state = "esc";
      else if (ch === "\r") this.col = 0;
      else if (ch === "\n") { this.row += 1; this.line(); }
      else if (ch === "\b") this.col = Math.max(0, this.col - 1);
      else if (ch >= " ") this.put(ch);
    }
  };

  function colour(value) {
    if (typeof value === "string") return value;
    if (value < BASE16) return "var(--terminal-" + value + ")";
    if (value >= 232) { var grey = 8 + (value - 232) * 10; return "rgb(" + grey + "," + grey + "," + grey + ")"; }
    var index = value - 16, steps = [0, 95, 135, 175, 215, 255];
    return "rgb(" + steps[Math.floor(index / 36)] + "," + steps[Math.floor(index / 6) % 6] + "," + steps[index % 6] + ")";
  }

  function same(a, b) {
    return a.fg === b.fg && a.bg === b.bg && !a.bold === !b.bold && !a.dim === !b.dim &&
      !a.italic === !b.italic && !a.underline === !b.underline;
  }

  function render(screen, target) {
    var fragment = document.createDocumentFragment();
    screen.lines.forEach(function (line, index) {
      var run = "", style = null;
      function flush() {
        if (!run) return;
        var span = document.createElement("span");
        span.textContent = run;
        if (style.fg !== undefined) span.style.color = colour(style.fg);
        if (style.bg !== undefined) span.style.backgroundColor = colour(style.bg);
        if (style.bold) span.style.fontWeight = "700";
        if (style.italic) span.style.fontStyle = "italic";
        if (style.underline) span.style.textDecoration = "underline";
        if (style.dim) span.className = "terminal-dim";
        fragment.append(span);
        run = "";
      }
      line.forEach(function (cell) {
        if (style === null || !same(style, cell.style)) { flush(); style = cell.style; }
        run += cell.ch;
      });
      flush();
      if (index < screen.lines.length - 1) fragment.append("\n");
    });
    target.replaceChildren(fragment);
  }

  function clock(seconds) {
    var whole = Math.floor(seconds);
    return Math.floor(whole / 60) + ":" + String(whole % 60).padStart(2, "0");
  }

  // Long pauses shortened as asciinema's player does: no gap between two events longer than
  // the recording's idle_time_limit (when it sets one).
  function capIdle(events, limit) {
    if (!limit) return events;
    var shifted = [], last = 0, at = 0;
    for (var i = 0; i < events.length; i++) {
      at += Math.min(events[i][0] - last, limit);
      last = events[i][0];
      shifted.push([at, events[i][1], events[i][2]]);
    }
    return shifted;
  }

  // The screen's font, sized so that its columns fit the player's width, no smaller than
  // MIN_FONT CSS px: below that, a phone scrolls inside the player (never the page).
  var MIN_FONT = 10, MAX_FONT = 13.6;
  function fitFont(element, columns) {
    var probe = document.createElement("span");
    probe.textContent = "0".repeat(50);
    probe.style.cssText = "position:absolute;visibility:hidden;white-space:pre;font-size:100px";
    element.append(probe);
    var perPixel = probe.getBoundingClientRect().width / 50 / 100; // a column, per px of font
    probe.remove();
    var style = getComputedStyle(element);
    var room = element.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    if (!perPixel || room <= 0) return;
    var size = Math.max(MIN_FONT, Math.min(MAX_FONT, Math.floor((room / (columns * perPixel)) * 10) / 10));
    element.style.fontSize = size + "px";
  }

  function Player(root, header, events) {
    this.root = root;
    this.events = capIdle(events, header.idle_time_limit);
    this.width = header.width;
    this.height = header.height;
    this.duration = this.events.length ? this.events[this.events.length - 1][0] : 0;
    this.position = 0;
    this.speed = 1;
    this.timer = null;
    this.screenElement = root.querySelector(".terminal-screen");
    this.playButton = root.querySelector("[data-action=play]");
    this.seek = root.querySelector("input[type=range]");
    this.time = root.querySelector(".terminal-time");
    this.seek.max = String(this.duration);
    this.screenElement.style.setProperty("--terminal-columns", String(header.width));
    var self = this;
    this.playButton.addEventListener("click", function () { self.toggle(); });
    root.querySelector("select").addEventListener("change", function (event) {
      self.speed = Number(event.target.value) || 1;
      if (self.timer) { self.pause(); self.play(); }
    });
    this.seek.addEventListener("input", function () { self.pause(); self.show(Number(self.seek.value)); });
    root.addEventListener("keydown", function (event) { self.key(event); });
    fitFont(this.screenElement, this.width);
    window.addEventListener("resize", function () { fitFont(self.screenElement, self.width); });
    this.show(this.duration); // the whole run first: readers see how it ends without playing
  }

  // asciinema's player keys: Space plays or pauses, the arrows seek five seconds, a digit
  // jumps to that tenth of the recording. Left to the controls themselves when they have the
  // focus (Space presses a button, arrows move the slider).
  Player.prototype.key = function (event) {
    var tag = event.target.tagName;
    if (event.altKey || event.ctrlKey || event.metaKey || tag === "BUTTON" || tag === "SELECT" ||
        tag === "INPUT") return;
    var playing = !!this.timer;
    if (event.key === " ") this.toggle();
    else if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
      this.pause();
      this.show(this.position + (event.key === "ArrowLeft" ? -5 : 5));
      if (playing) this.play();
    } else if (/^[0-9]$/.test(event.key)) {
      this.pause();
      this.show((this.duration * Number(event.key)) / 10);
      if (playing) this.play();
    } else return;
    event.preventDefault();
  };

  Player.prototype.show = function (position) {
    this.position = Math.max(0, Math.min(position, this.duration));
    var screen = new Screen(this.width, this.height);
    for (var i = 0; i < this.events.length && this.events[i][0] <= this.position; i++) {
      screen.write(this.events[i][2]);
    }
    render(screen, this.screenElement);
    this.screenElement.scrollTop = this.screenElement.scrollHeight;
    this.seek.value = String(this.position);
    this.time.textContent = clock(this.position) + " / " + clock(this.duration);
    this.root.dataset.position = this.position.toFixed(3);
  };

  Player.prototype.play = function () {
    if (this.position >= this.duration) this.show(0);
    var self = this, startedAt = performance.now(), from = this.position;
    this.playButton.textContent = "Pause";
    this.root.dataset.state = "playing";
    function tick() {
      var position = from + ((performance.now() - startedAt) / 1000) * self.speed;
      self.show(position);
      if (position >= self.duration) { self.pause(); return; }
      self.timer = window.setTimeout(tick, 50);
    }
    tick();
  };

  Player.prototype.pause = function () {
    if (this.timer) window.clearTimeout(this.timer);
    this.timer = null;
    this.playButton.textContent = "Play";
    this.root.dataset.state = "paused";
  };

  Player.prototype.toggle = function () {
    if (this.timer) this.pause(); else this.play();
  };

  function whole(value, most) {
    return typeof value === "number" && Math.floor(value) === value && value >= 1 && value <= most;
  }

  // A recording the player cannot show says so, line by line, instead of drawing nonsense.
  function parse(text) {
    var lines = text.split("\n");
    var header;
    try { header = JSON.parse(lines[0]); } catch (error) { throw new Error("line 1 is not JSON"); }
    if (!header || header.version !== 2) throw new Error("not an asciicast v2 recording");
    if (!whole(header.width, MAX_COLUMNS) || !whole(header.height, MAX_ROWS)) {
      throw new Error("its width and height must be whole numbers up to " + MAX_COLUMNS +
        " columns and " + MAX_ROWS + " rows");
    }
    var limit = header.idle_time_limit;
    if (limit !== undefined && limit !== null &&
        (typeof limit !== "number" || !isFinite(limit) || limit <= 0 || limit > 3600)) {
      throw new Error("its idle_time_limit must be a number of seconds above 0, up to 3600");
    }
    var events = [], last = 0;
    for (var n = 1; n < lines.length; n++) {
      if (lines[n].trim() === "") continue;
      var event;
      try { event = JSON.parse(lines[n]); } catch (error) { throw new Error("line " + (n + 1) + " is not JSON"); }
      if (!Array.isArray(event) || event.length < 3 || typeof event[0] !== "number" ||
          !isFinite(event[0]) || event[0] < last || typeof event[1] !== "string") {
        throw new Error("line " + (n + 1) + " is not an event [seconds, kind, data] in order");
      }
      last = event[0];
      if (event[1] === "o" && typeof event[2] === "string") events.push(event);
    }
    return { header: header, events: events };
  }

  function start() {
    var players = document.querySelectorAll(".terminal-player[data-cast]");
    players.forEach(function (root) {
      fetch(root.dataset.cast)
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.text();
        })
        .then(function (text) {
          var cast = parse(text);
          root.dataset.ready = "true";
          new Player(root, cast.header, cast.events);
        })
        .catch(function (error) {
          root.querySelector(".terminal-screen").textContent =
            "The recording could not be loaded (" + error.message + ").";
          root.dataset.ready = "error";
        });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
