-- launch.lua -- the site configuration of `shelf launch`: notebook profiles.
--
-- Evaluated as Lua 5.4 in a sandbox (no io, os, require); it returns one
-- table. Reference: docs/launch.md. Check it with `shelf launch --list`
-- and `shelf launch --profile NAME --user someone --dry-run`.
--
-- This sample mirrors the usual Kubeflow set-up of three custom images
-- (data preparation on CPU, training on a GPU, inference on CPU): here it
-- is one image and three profiles, each restoring its own collection from
-- the shared module tree, which every pod mounts read-only.
--
-- Placeholders, replaced when a server starts: {user} {name} {profile}
-- {port} {token} {base_url} {home} {namespace}.

local jupyter = {
    "/usr/bin/python3", "-m", "jupyter_server",
    "--ServerApp.ip=0.0.0.0", "--ServerApp.port={port}",
    "--ServerApp.base_url={base_url}", "--ServerApp.root_dir={home}",
    "--ServerApp.token={token}", "--no-browser", "--ServerApp.port_retries=0",
}

return {
    -- Every profile gets these fields unless it sets them itself.
    defaults = {
        image = "registry.example.org/notebooks/base:2024.1",
        command = jupyter,
        -- The local backend (`shelf launch --profile prep`) runs Debian's
        -- Jupyter server on 127.0.0.1; its token comes from JUPYTER_TOKEN in
        -- the environment, so it is not on the command line (ps) either.
        local_command = {
            "/usr/bin/python3", "-m", "jupyter_server",
            "--ServerApp.ip=127.0.0.1", "--ServerApp.port={port}",
            "--ServerApp.base_url={base_url}", "--ServerApp.root_dir={home}",
            "--no-browser", "--allow-root", "--ServerApp.port_retries=0",
        },
        port = 8888,
        uid = 1000,
        gid = 100,
        -- The tree: shelf installed under /opt/shelf on a ReadWriteMany
        -- volume (CephFS, NFS), mounted read-only by every notebook. The
        -- local backend shows this machine's installation there instead.
        tree = { pvc = "shelf-tree", mount = "/opt/shelf", local_path = SHELF_PREFIX },
        modulepath = { "/opt/shelf/share/shelf/modulefiles/Core" },
        home = { pvc = "home-{user}", mount = "/home/jovyan" },
        node_selector = { notebook = "true", org = "public" },
        env = { TZ = "UTC" },
        allow = { collection = true },
    },

    -- Site collections: what a profile restores when the user has no saved
    -- collection of that name. Loaded at start, then saved for the user.
    collections = {
        prep = { "pandas/2.2.1", "matplotlib/3.8.3", "opencv/4.9.0", "numpy/1.26.4" },
        train = { "cuda/12.2.2", "torch/2.2.0", "torchvision/0.17.0" },
        infer = { "torch/2.2.0" },
    },

    profiles = {
        {
            name = "prep",
            description = "Data preparation on CPU: pandas, matplotlib, opencv, numpy",
            cpu = { request = "1", limit = "4" },
            memory = { request = "2Gi", limit = "8Gi" },
            node_selector = { notebook = "true", cpu = "true", org = "public" },
            collection = "prep",
            allow = { collection = true, cpu_max = "8", memory_max = "16Gi" },
        },
        {
            name = "train",
            description = "Model training on one GPU: CUDA, PyTorch, torchvision",
            cpu = { request = "4", limit = "8" },
            memory = { request = "16Gi", limit = "32Gi" },
            gpus = 1,
            node_selector = { notebook = "true", gpu = "true", org = "public" },
            tolerations = {
                { key = "nvidia.com/gpu", operator = "Exists", effect = "NoSchedule" },
            },
            collection = "train",
            allow = {
                collection = true, cpu_max = "16", memory_max = "64Gi", gpus_max = 2,
                images = { "registry.example.org/notebooks/base:2024.1-cuda" },
            },
        },
        {
            name = "infer",
            description = "Inference on CPU: PyTorch",
            cpu = { request = "2", limit = "4" },
            memory = { request = "4Gi", limit = "8Gi" },
            node_selector = { notebook = "true", cpu = "true", org = "public" },
            collection = "infer",
            allow = { collection = true, cpu_max = "8" },
        },
    },
}
