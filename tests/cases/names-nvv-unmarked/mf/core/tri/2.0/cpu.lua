setenv("TRI", myModuleName() .. "|" .. myModuleVersion())
