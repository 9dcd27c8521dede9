// The case diagram in bpmn-js: done / active / overdue steps marked, time spent on each.
// <div class="case-diagram" data-xml="…"> and <script type="application/json" class="diagram-marks">.
(function () {
  async function show(container, marks) {
    try {
      const xml = await (await fetch(container.dataset.xml, {credentials: "same-origin"})).text();
      const viewer = new BpmnJS({container: container});
      await viewer.importXML(xml);
      const canvas = viewer.get("canvas");
      const registry = viewer.get("elementRegistry");
      const overlays = viewer.get("overlays");
      canvas.zoom("fit-viewport");
      for (const [kind, ids] of [["done", marks.done], ["active", marks.active], ["overdue", marks.overdue]]) {
        for (const id of ids) { if (registry.get(id)) canvas.addMarker(id, "step-" + kind); }
      }
      for (const [id, text] of Object.entries(marks.spent || {})) {
        if (!registry.get(id)) continue;
        const badge = document.createElement("span");
        badge.className = "spent-badge";
        badge.textContent = text;
        overlays.add(id, {position: {bottom: 8, right: 12}, html: badge});
      }
      container.dataset.ready = "1";
    } catch (err) {
      container.dataset.ready = "error";
      container.insertAdjacentHTML("afterend", '<p class="small text-danger">流程图无法显示。</p>');
      console.error(err);
    }
  }
  document.querySelectorAll(".case-diagram").forEach(function (container) {
    const marks = JSON.parse(container.nextElementSibling.textContent);
    show(container, marks);
  });
})();
