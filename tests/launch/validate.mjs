// validate.mjs -- validates every object of a `shelf launch --dry-run -o json`
// List (read from stdin) with the models of the npm package kubernetes-models:
// Secret, Pod and Service as they are, a Kubeflow Notebook's pod template as
// a PodSpec (and its metadata as ObjectMeta). Prints one line per object,
// "ok KIND NAME" or "not ok KIND NAME: the schema's complaint"; exits 1 if
// any object fails or the input is not a List.
import { readFileSync } from "node:fs";
import { Pod } from "kubernetes-models/v1/Pod";
import { PodSpec } from "kubernetes-models/v1/PodSpec";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { ObjectMeta } from "@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta";

const list = JSON.parse(readFileSync(0, "utf8"));
let failed = 0;
function check(label, make) {
  try {
    make().validate();
    console.log(`ok ${label}`);
  } catch (e) {
    failed++;
    console.log(`not ok ${label}: ${e.message}`);
  }
}
if (list.apiVersion !== "v1" || list.kind !== "List" || !Array.isArray(list.items) ||
    list.items.length === 0) {
  console.log("not ok: not a non-empty v1 List");
  process.exit(1);
}
for (const item of list.items) {
  const label = `${item.kind} ${item.metadata && item.metadata.name}`;
  switch (item.kind) {
    case "Pod": check(label, () => new Pod(item)); break;
    case "Service": check(label, () => new Service(item)); break;
    case "Secret": check(label, () => new Secret(item)); break;
    case "Notebook":
      if (item.apiVersion !== "kubeflow.org/v1") {
        failed++;
        console.log(`not ok ${label}: apiVersion ${item.apiVersion}`);
        break;
      }
      check(`${label} metadata`, () => new ObjectMeta(item.metadata));
      check(`${label} template metadata`, () => new ObjectMeta(item.spec.template.metadata));
      check(`${label} template spec (PodSpec)`, () => new PodSpec(item.spec.template.spec));
      break;
    default:
      failed++;
      console.log(`not ok ${label}: unexpected kind`);
  }
}
process.exit(failed ? 1 : 0);
