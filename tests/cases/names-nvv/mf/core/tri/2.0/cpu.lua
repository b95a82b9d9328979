setenv("TRI", myModuleName() .. "|" .. myModuleVersion() .. "|" .. myModuleFullName())
