@echo off
rem The leafseg command line of an installed Leafseg: the app's own Electron, run as Node, on the bundled CLI.
setlocal
set ELECTRON_RUN_AS_NODE=1
"%~dp0..\..\Leafseg.exe" "%~dp0..\app.asar\out\main\cli.js" %*
