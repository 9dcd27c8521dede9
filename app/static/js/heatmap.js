// 环节瓶颈: an item's diagram in bpmn-js, each step coloured by its median working
// time (classes heat-0 … heat-4, legend on the page); clicking a step shows its figures.
(function () {
  const container = document.querySelector(".heat-diagram");
  if (!container) return;
  const marks = JSON.parse(container.nextElementSibling.textContent);
  const detail = document.getElementById("step-detail");
  const hours = (value) => (value === null ? "—" : value + " 小时");
  function show(id) {
    const f = marks.figures[id];
    if (!f || !detail) return;
    const body = detail.querySelector(".card-body");
    body.textContent = "";
    const title = document.createElement("h2");
    title.className = "h6";
    title.textContent = f.name;
    const lines = [
      "件次：" + f.count,
      "用时中位数：" + hours(f.median) + "，90分位：" + hours(f.p90),
      "等待认领中位数：" + hours(f.wait_median),
      "超时比例：" + (f.overdue_share === null ? "—" : (f.overdue_share * 100).toFixed(2) + "%"),
      "退回：" + f.returns,
      "最慢的办件：" + (f.slowest.map((s) => s.number + "（" + s.hours + " 小时）").join("、") || "—"),
    ];
    body.append(title);
    for (const text of lines) {
      const p = document.createElement("p");
      p.className = "mb-1";
      p.textContent = text;
      body.append(p);
    }
    detail.classList.remove("d-none");
    detail.dataset.step = id;
  }
  (async function () {
    try {
      const xml = await (await fetch(container.dataset.xml, {credentials: "same-origin"})).text();
      const viewer = new BpmnJS({container: container});
      await viewer.importXML(xml);
      const canvas = viewer.get("canvas");
      const registry = viewer.get("elementRegistry");
      canvas.zoom("fit-viewport");
      for (const [id, band] of Object.entries(marks.bands)) {
        if (registry.get(id)) canvas.addMarker(id, band);
      }
      viewer.get("eventBus").on("element.click", (event) => show(event.element.id));
      container.dataset.ready = "1";
    } catch (err) {
      container.dataset.ready = "error";
      container.insertAdjacentHTML("afterend", '<p class="small text-danger">流程图无法显示。</p>');
      console.error(err);
    }
  })();
})();
