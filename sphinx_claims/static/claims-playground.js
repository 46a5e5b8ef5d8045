/* The playground's controls (sphinx_claims/playground.py). Under each doctest block
   (.claims-try-block): Run (.claims-try), Edit, Reset, a status line, the editor and the
   output (.claims-try-output); under each scenario the same with .claims-try-scenario,
   the replay's report as output and the pictures redrawn below it. Nothing loads until the reader first runs an example;
   then one Web Worker (claims-playground-worker.js) loads Pyodide for the page and runs
   every example of it. An example still running after TIMEOUT_MS, or one the reader
   stops, ends the worker; the next run starts a new one. */
(() => {
  "use strict";
  const data = document.getElementById("claims-playground-data");
  if (!data || typeof Worker === "undefined") return;
  const page = JSON.parse(data.textContent);
  const STATIC = new URL(".", document.currentScript.src);
  const TIMEOUT_MS = 120000;

  // figures for the browser check: when the first run was asked for and Pyodide was ready
  const figures = (window.claimsPlayground = { requested: null, ready: null, runs: [] });
  let worker = null;
  let ready = null;
  const pending = new Map();
  let nextId = 1;

  function startWorker() {
    worker = new Worker(new URL(`claims-playground-worker.js?v=${page.version}`, STATIC));
    ready = new Promise((resolve, reject) => {
      worker.onmessage = (event) => {
        const message = event.data;
        if (message.type === "ready") {
          if (figures.ready === null) figures.ready = performance.now();
          resolve();
        } else if (message.type === "failed") {
          reject(new Error(message.error));
        } else if (message.type === "result" && pending.has(message.id)) {
          pending.get(message.id).resolve(message);
          pending.delete(message.id);
        }
      };
      worker.onerror = (event) => {
        event.preventDefault();
        reject(new Error(event.message || "the worker failed"));
      };
    });
    worker.postMessage({
      type: "init",
      pyodide: new URL("pyodide/", STATIC).href,
      model: new URL(`claims-playground/model.zip?v=${page.version}`, STATIC).href,
      blocks: page.blocks,
    });
  }

  function stopWorker(reason) {
    if (worker) worker.terminate();
    worker = null;
    ready = null;
    for (const job of pending.values()) job.reject(new Error(reason));
    pending.clear();
  }

  async function run(request) {
    if (figures.requested === null) figures.requested = performance.now();
    if (!worker) startWorker();
    try {
      await ready;
    } catch (error) {
      stopWorker(error.message);
      throw error;
    }
    const id = nextId++;
    const result = new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
    worker.postMessage({ ...request, id });
    const timer = setTimeout(
      () => stopWorker(`stopped: still running after ${TIMEOUT_MS / 1000} s`), TIMEOUT_MS);
    try {
      const message = await result;
      figures.runs.push(message.ms);
      return message;
    } finally {
      clearTimeout(timer);
    }
  }

  function button(label, cls) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = cls;
    b.textContent = label;
    return b;
  }

  function prompted(source) {
    const lines = source.replace(/\n+$/, "").split("\n");
    return lines.map((line, i) => (i === 0 ? ">>> " : "... ") + line).join("\n");
  }

  function show(output, shown) {
    output.replaceChildren();
    for (const example of shown) {
      const item = document.createElement("span");
      item.className = "claims-try-example";
      const source = document.createElement("span");
      source.className = "claims-try-source";
      source.textContent = prompted(example.source) + "\n";
      item.append(source);
      if (example.output) {
        const got = document.createElement("span");
        got.className = "claims-try-got";
        got.textContent = example.output;
        item.append(got);
      }
      if (example.error !== null) {
        const error = document.createElement("span");
        error.className = "claims-try-error";
        error.textContent = example.error + "\n";
        item.append(error);
      }
      output.append(item);
    }
  }

  function showScenario(output, pictures, scenario) {
    output.textContent = scenario.report + "\n";
    pictures.replaceChildren();
    for (const picture of scenario.pictures) {
      const figure = document.createElement("figure");
      const caption = document.createElement("figcaption");
      caption.textContent = picture.title;
      figure.append(caption);
      figure.insertAdjacentHTML("beforeend", picture.svg);  // drawn by memory_svg.py
      pictures.append(figure);
    }
    pictures.hidden = scenario.pictures.length === 0;
  }

  // Run, Edit, Reset, status, editor and output after *anchor*; *request* makes the
  // worker's message from the code, *render* shows its result.
  function attach(anchor, original, what, request, render) {
    const bar = document.createElement("div");
    bar.className = "claims-try-bar";
    const runButton = button("▶ Run", what.button);
    runButton.setAttribute("aria-label", `Run ${what.name} in the browser`);
    const edit = button("Edit", "claims-try-edit");
    edit.setAttribute("aria-expanded", "false");
    const reset = button("Reset", "claims-try-reset");
    reset.hidden = true;
    const status = document.createElement("span");
    status.className = "claims-try-status";
    status.setAttribute("role", "status");
    const editor = document.createElement("textarea");
    editor.className = "claims-try-editor";
    editor.id = `${anchor.id}-editor`;
    editor.value = original;
    editor.hidden = true;
    editor.spellcheck = false;
    editor.wrap = "off";  // code scrolls sideways, as the page's blocks do
    editor.rows = Math.min(original.split("\n").length + 1, 20);
    editor.setAttribute("aria-label", `Code of ${what.name} (Ctrl+Enter runs it)`);
    edit.setAttribute("aria-controls", editor.id);
    const output = document.createElement("pre");
    output.className = "claims-try-output";
    output.setAttribute("aria-live", "polite");
    output.setAttribute("aria-label", `Output of ${what.name}`);
    output.hidden = true;
    bar.append(runButton, edit, reset, status);
    anchor.after(bar, editor, output);

    let running = false;
    async function go() {
      if (running) {  // the button reads Stop while it runs
        stopWorker("stopped");
        return;
      }
      running = true;
      runButton.textContent = "■ Stop";
      bar.dataset.state = "running";
      status.textContent = worker ? "Running…" : "Loading Python (Pyodide)…";
      try {
        const message = await run(request(editor.value));
        render(output, message);
        output.hidden = false;
        status.textContent = `Ran in ${Math.round(message.ms)} ms`;
        bar.dataset.state = "done";
      } catch (error) {
        status.textContent = error.message;
        bar.dataset.state = "failed";
      } finally {
        running = false;
        runButton.textContent = "▶ Run";
      }
    }
    runButton.addEventListener("click", go);
    edit.addEventListener("click", () => {
      editor.hidden = !editor.hidden;
      edit.setAttribute("aria-expanded", String(!editor.hidden));
      if (!editor.hidden) editor.focus();
    });
    editor.addEventListener("input", () => { reset.hidden = editor.value === original; });
    editor.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        go();
      }
    });
    reset.addEventListener("click", () => {
      editor.value = original;
      reset.hidden = true;
      output.hidden = true;
      output.replaceChildren();
      if (what.reset) what.reset();
      status.textContent = "Reset to the page's version";
      editor.focus();
    });
    return output;
  }

  let number = 0;
  for (const [id, index] of Object.entries(page.tries)) {
    const block = document.getElementById(id);
    if (!block) continue;
    const what = { name: `example ${++number}`, button: "claims-try" };
    attach(block, page.blocks[index][1], what, (code) => ({ type: "run", index, code }),
      (output, message) => show(output, message.shown));
  }
  number = 0;
  for (const [id, scenario] of Object.entries(page.scenarios)) {
    const figure = document.getElementById(id);
    if (!figure) continue;
    const pictures = document.createElement("div");
    pictures.className = "claims-try-pictures claims-scenario";
    pictures.hidden = true;
    const what = {
      name: `scenario ${++number}`,
      button: "claims-try-scenario",
      reset: () => { pictures.hidden = true; pictures.replaceChildren(); },
    };
    const output = attach(figure, scenario.script, what,
      (code) => ({ type: "scenario", code, designs: scenario.designs }),
      (out, message) => showScenario(out, pictures, message.scenario));
    output.after(pictures);
  }
})();
