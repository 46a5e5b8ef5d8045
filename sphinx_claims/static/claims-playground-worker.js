/* The playground's Web Worker (sphinx_claims/playground.py): loads the site's own copy of
   Pyodide and the model archive, then runs a page's examples with claims_playground.py.
   A worker keeps the page responsive while an example runs, and the page can stop one
   that does not end by terminating it. Messages:
     in:  {type: "init", pyodide: URL of _static/pyodide/, model: URL of model.zip, blocks}
          {type: "run", id, index, code} | {type: "scenario", id, code, designs}
     out: {type: "ready"} | {type: "failed", error}
          {type: "result", id, shown: [{source, output, error}], ms}
          {type: "result", id, scenario: {report, pictures: [{title, svg}]}, ms} */
"use strict";

const HOME = "/home/pyodide/claims";
let session = null;

async function init(message) {
  importScripts(message.pyodide + "pyodide.js");
  // indexURL: the site's copy; no package is loaded, so nothing is fetched from elsewhere
  const pyodide = await loadPyodide({ indexURL: message.pyodide, packages: [] });
  const response = await fetch(message.model);
  if (!response.ok) throw new Error(`${message.model}: ${response.status}`);
  pyodide.unpackArchive(await response.arrayBuffer(), "zip", { extractDir: HOME });
  pyodide.runPython(`import os, sys; sys.path.insert(0, "${HOME}"); os.chdir("${HOME}")`);
  const runtime = pyodide.pyimport("claims_playground");
  runtime.install();
  session = runtime.start(JSON.stringify(message.blocks));
}

self.onmessage = async (event) => {
  const message = event.data;
  if (message.type === "init") {
    try {
      await init(message);
      self.postMessage({ type: "ready" });
    } catch (error) {
      self.postMessage({ type: "failed", error: String(error) });
    }
  } else if (message.type === "run" || message.type === "scenario") {
    const start = performance.now();
    const result = { type: "result", id: message.id };
    try {
      if (message.type === "run") {
        result.shown = JSON.parse(session.run_json(message.index, message.code));
      } else {
        const designs = JSON.stringify(message.designs);
        result.scenario = JSON.parse(session.scenario_json(message.code, designs));
      }
    } catch (error) {  // the runtime itself failed: show the last line of its traceback
      const lines = String(error).trim().split("\n");
      const last = lines[lines.length - 1];
      result.shown = [{ source: message.code, output: "", error: last }];
      result.scenario = { report: last, pictures: [] };
    }
    result.ms = performance.now() - start;
    self.postMessage(result);
  }
};
