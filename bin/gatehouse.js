#!/usr/bin/env node
'use strict';
// Runs the compiled CLI (npm install / npm ci build it through the `prepare` script).
require('reflect-metadata');
require('../dist/app/cli.js')
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
    // Let pino flush; stop even if a plugin left a handle open.
    setTimeout(() => process.exit(code), 200).unref();
  });
