setenv("MODE_" .. mode(), "1")
if mode() == "unload" then
  LmodMessage("unloading in mode " .. mode())
end
