if mode() == "unload" then LmodMessage("bye-" .. myModuleName()) end
prepend_path("PATH", "/opt/a/bin")
pushenv("PURGE_TOP", "a")
