#!/usr/bin/python3
"""check_objects.py -- our own checks of a `shelf launch --dry-run -o json`
List, beyond what the kubernetes-models schemas check:

  * no unknown fields: every object is walked against the field names of
    the Kubernetes API (v1.30) types it uses (the schemas accept anything
    extra, the API server would not);
  * names are DNS-1123 labels (Services: DNS-1035), labels are valid;
  * the module tree is read-only on both sides: the volume source
    (persistentVolumeClaim.readOnly / nfs.readOnly, hostPath of type
    Directory) and every volumeMount of it;
  * GPUs (nvidia.com/gpu) only in limits, and as many as --gpus N says;
  * a Service selects exactly labels its Pod has;
  * pod security: non-root, no privilege escalation, ALL capabilities
    dropped, RuntimeDefault seccomp; a readiness probe under the base URL;
  * MODULEPATH, SHELF_INIT and the collection reach the container.

usage: check_objects.py LIST.json [--gpus N] [--collection NAME]
Prints "ok ..." / "not ok ..." lines; exit status 1 on any failure.
"""
import json
import re
import sys

META = {"name", "namespace", "labels", "annotations", "generateName", "uid",
        "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp",
        "deletionGracePeriodSeconds", "ownerReferences", "finalizers", "managedFields"}
SCHEMA = {
    "List": {"apiVersion": None, "kind": None, "metadata": "ListMeta", "items": None},
    "ListMeta": {"resourceVersion": None, "continue": None, "remainingItemCount": None,
                 "selfLink": None},
    "ObjectMeta": {k: None for k in META} | {"labels": "strmap", "annotations": "strmap"},
    "Secret": {"apiVersion": None, "kind": None, "metadata": "ObjectMeta", "data": "strmap",
               "stringData": "strmap", "type": None, "immutable": None},
    "Pod": {"apiVersion": None, "kind": None, "metadata": "ObjectMeta", "spec": "PodSpec",
            "status": None},
    "Notebook": {"apiVersion": None, "kind": None, "metadata": "ObjectMeta",
                 "spec": "NotebookSpec", "status": None},
    "NotebookSpec": {"template": "PodTemplateSpec"},
    "PodTemplateSpec": {"metadata": "ObjectMeta", "spec": "PodSpec"},
    "PodSpec": {k: None for k in (
        "initContainers", "ephemeralContainers", "restartPolicy",
        "terminationGracePeriodSeconds", "activeDeadlineSeconds", "dnsPolicy",
        "serviceAccountName", "serviceAccount", "automountServiceAccountToken", "nodeName",
        "hostNetwork", "hostPID", "hostIPC", "shareProcessNamespace", "imagePullSecrets",
        "hostname", "subdomain", "affinity", "schedulerName", "hostAliases",
        "priorityClassName", "priority", "dnsConfig", "readinessGates", "runtimeClassName",
        "enableServiceLinks", "preemptionPolicy", "overhead", "topologySpreadConstraints",
        "setHostnameAsFQDN", "os", "hostUsers", "schedulingGates", "resourceClaims")}
    | {"containers": ["Container"], "volumes": ["Volume"], "nodeSelector": "strmap",
       "tolerations": ["Toleration"], "securityContext": "PodSecurityContext"},
    "PodSecurityContext": {k: None for k in (
        "seLinuxOptions", "windowsOptions", "runAsUser", "runAsGroup", "runAsNonRoot",
        "supplementalGroups", "fsGroup", "sysctls", "fsGroupChangePolicy",
        "appArmorProfile")} | {"seccompProfile": "SeccompProfile"},
    "SeccompProfile": {"type": None, "localhostProfile": None},
    "Toleration": {"key": None, "operator": None, "value": None, "effect": None,
                   "tolerationSeconds": None},
    "Container": {k: None for k in (
        "name", "image", "command", "args", "workingDir", "envFrom", "resizePolicy",
        "restartPolicy", "volumeDevices", "livenessProbe", "startupProbe", "lifecycle",
        "terminationMessagePath", "terminationMessagePolicy", "imagePullPolicy", "stdin",
        "stdinOnce", "tty")}
    | {"ports": ["ContainerPort"], "env": ["EnvVar"], "resources": "Resources",
       "volumeMounts": ["VolumeMount"], "readinessProbe": "Probe",
       "securityContext": "SecurityContext"},
    "ContainerPort": {"name": None, "hostPort": None, "containerPort": None,
                      "protocol": None, "hostIP": None},
    "EnvVar": {"name": None, "value": None, "valueFrom": "EnvVarSource"},
    "EnvVarSource": {"fieldRef": None, "resourceFieldRef": None, "configMapKeyRef": None,
                     "secretKeyRef": "SecretKeySelector"},
    "SecretKeySelector": {"name": None, "key": None, "optional": None},
    "Resources": {"limits": "strmap", "requests": "strmap", "claims": None},
    "VolumeMount": {"name": None, "readOnly": None, "recursiveReadOnly": None,
                    "mountPath": None, "subPath": None, "mountPropagation": None,
                    "subPathExpr": None},
    "SecurityContext": {k: None for k in (
        "privileged", "seLinuxOptions", "windowsOptions", "runAsUser", "runAsGroup",
        "runAsNonRoot", "readOnlyRootFilesystem", "allowPrivilegeEscalation", "procMount",
        "appArmorProfile")}
    | {"capabilities": "Capabilities", "seccompProfile": "SeccompProfile"},
    "Capabilities": {"add": None, "drop": None},
    "Probe": {k: None for k in (
        "exec", "tcpSocket", "grpc", "initialDelaySeconds", "timeoutSeconds",
        "periodSeconds", "successThreshold", "failureThreshold",
        "terminationGracePeriodSeconds")} | {"httpGet": "HTTPGetAction"},
    "HTTPGetAction": {"path": None, "port": None, "host": None, "scheme": None,
                      "httpHeaders": None},
    "Volume": {"name": None, "persistentVolumeClaim": "PVCSource", "nfs": "NFSSource",
               "hostPath": "HostPathSource", "emptyDir": "EmptyDirSource"},
    "PVCSource": {"claimName": None, "readOnly": None},
    "NFSSource": {"server": None, "path": None, "readOnly": None},
    "HostPathSource": {"path": None, "type": None},
    "EmptyDirSource": {"medium": None, "sizeLimit": None},
    "Service": {"apiVersion": None, "kind": None, "metadata": "ObjectMeta",
                "spec": "ServiceSpec", "status": None},
    "ServiceSpec": {k: None for k in (
        "clusterIP", "clusterIPs", "type", "externalIPs", "sessionAffinity",
        "loadBalancerIP", "loadBalancerSourceRanges", "externalName",
        "externalTrafficPolicy", "healthCheckNodePort", "publishNotReadyAddresses",
        "sessionAffinityConfig", "ipFamilies", "ipFamilyPolicy",
        "allocateLoadBalancerNodePorts", "loadBalancerClass", "internalTrafficPolicy",
        "trafficDistribution")} | {"ports": ["ServicePort"], "selector": "strmap"},
    "ServicePort": {"name": None, "protocol": None, "appProtocol": None, "port": None,
                    "targetPort": None, "nodePort": None},
}

DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")

failures = 0


def report(ok, what):
    global failures
    print(("ok " if ok else "not ok ") + what)
    if not ok:
        failures += 1


def unknown_fields(value, typ, path, out):
    if typ is None:
        return
    if isinstance(typ, list):
        if not isinstance(value, list):
            out.append(f"{path}: not a list")
            return
        for i, v in enumerate(value):
            unknown_fields(v, typ[0], f"{path}[{i}]", out)
        return
    if not isinstance(value, dict):
        out.append(f"{path}: not an object")
        return
    if typ == "strmap":
        for k, v in value.items():
            if not isinstance(v, str):
                out.append(f"{path}.{k}: not a string")
        return
    fields = SCHEMA[typ]
    for k, v in value.items():
        if k not in fields:
            out.append(f"{path}.{k}: unknown field of {typ}")
        else:
            unknown_fields(v, fields[k], f"{path}.{k}", out)


def check_pod_spec(name, spec, gpus, collection, base_url):
    vols = {v["name"]: v for v in spec.get("volumes", [])}
    tree = vols.get("shelf-tree")
    report(tree is not None, f"{name}: has the tree volume")
    if tree:
        src_ro = (tree.get("persistentVolumeClaim", {}).get("readOnly") is True
                  or tree.get("nfs", {}).get("readOnly") is True
                  or tree.get("hostPath", {}).get("type") == "Directory")
        report(src_ro, f"{name}: the tree's volume source is read-only")
    psc = spec.get("securityContext", {})
    report(psc.get("runAsNonRoot") is True and isinstance(psc.get("runAsUser"), int)
           and psc.get("runAsUser") > 0 and "fsGroup" in psc,
           f"{name}: pod runs as non-root with an fsGroup")
    report(psc.get("seccompProfile", {}).get("type") == "RuntimeDefault",
           f"{name}: RuntimeDefault seccomp")
    for c in spec["containers"]:
        cn = f"{name}/{c['name']}"
        mounts = [m for m in c.get("volumeMounts", []) if m["name"] == "shelf-tree"]
        report(len(mounts) == 1 and all(m.get("readOnly") is True for m in mounts),
               f"{cn}: the tree is mounted readOnly")
        report(all(m["name"] in vols for m in c.get("volumeMounts", [])),
               f"{cn}: every mount has its volume")
        res = c.get("resources", {})
        report("nvidia.com/gpu" not in res.get("requests", {}), f"{cn}: no GPU in requests")
        want = str(gpus) if gpus else None
        report(res.get("limits", {}).get("nvidia.com/gpu") == want,
               f"{cn}: nvidia.com/gpu limit is {want}")
        sc = c.get("securityContext", {})
        report(sc.get("allowPrivilegeEscalation") is False
               and sc.get("capabilities", {}).get("drop") == ["ALL"]
               and sc.get("privileged") is not True,
               f"{cn}: no privilege escalation, ALL capabilities dropped")
        probe = c.get("readinessProbe", {}).get("httpGet", {})
        report(probe.get("path", "").startswith(base_url) and
               probe.get("port") in [p.get("name") for p in c.get("ports", [])] +
               [p.get("containerPort") for p in c.get("ports", [])],
               f"{cn}: readiness probe under {base_url} on a container port")
        env = {e["name"]: e for e in c.get("env", [])}
        report("MODULEPATH" in env and "SHELF_INIT" in env and "BASH_ENV" in env
               and "PYTHONPATH" in env, f"{cn}: MODULEPATH and the shelf init in env")
        report(c.get("command", [])[:2] == ["/bin/sh", "-c"] and
               'module restore' in c["command"][2], f"{cn}: starts through the start script")
        if collection:
            report(env.get("SHELF_LAUNCH_COLLECTION", {}).get("value") == collection,
                   f"{cn}: restores collection {collection}")


def main():
    args = sys.argv[1:]
    gpus, collection = 0, None
    path = args.pop(0)
    while args:
        a = args.pop(0)
        if a == "--gpus":
            gpus = int(args.pop(0))
        elif a == "--collection":
            collection = args.pop(0)
    with open(path) as f:
        lst = json.load(f)
    out = []
    unknown_fields(lst, "List", "List", out)
    for i, item in enumerate(lst.get("items", [])):
        unknown_fields(item, item.get("kind"), f"items[{i}]({item.get('kind')})", out)
    report(not out, "no unknown fields" + ("".join("\n# " + o for o in out)))
    pods = {}
    for item in lst["items"]:
        kind, meta = item["kind"], item["metadata"]
        name = meta["name"]
        report(len(name) <= 63 and DNS1123.match(name) is not None,
               f"{kind} {name}: name is a DNS-1123 label")
        labels = meta.get("labels", {})
        report(all(LABEL_KEY.match(k) and len(k.split("/")[-1]) <= 63 for k in labels) and
               all(LABEL_VALUE.match(v) and len(v) <= 63 for v in labels.values()),
               f"{kind} {name}: labels are valid")
        report(labels.get("app.kubernetes.io/managed-by") == "shelf" and
               "shelf.dev/user" in labels and "shelf.dev/profile" in labels,
               f"{kind} {name}: ownership labels")
        base_url = meta.get("annotations", {}).get("shelf.dev/base-url", "/")
        if kind == "Pod":
            pods[name] = labels
            check_pod_spec(f"Pod {name}", item["spec"], gpus, collection, base_url)
        elif kind == "Notebook":
            tl = item["spec"]["template"].get("metadata", {}).get("labels", {})
            report(tl == labels, f"Notebook {name}: the template has the object's labels")
            check_pod_spec(f"Notebook {name}", item["spec"]["template"]["spec"], gpus,
                           collection, base_url)
    for item in lst["items"]:
        if item["kind"] == "Service":
            name = item["metadata"]["name"]
            report(DNS1035.match(name) is not None, f"Service {name}: name is a DNS-1035 label")
            sel = item["spec"].get("selector", {})
            matching = [p for p, labels in pods.items()
                        if sel and all(labels.get(k) == v for k, v in sel.items())]
            report(len(matching) == 1, f"Service {name}: its selector matches its Pod")
    sys.exit(1 if failures else 0)


main()
