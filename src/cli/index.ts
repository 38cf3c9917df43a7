#!/usr/bin/env node
console.log("hello", import.meta.url);
