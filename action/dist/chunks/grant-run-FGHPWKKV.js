import{createRequire as __elevateRequire}from'node:module';const require=__elevateRequire(import.meta.url);
import{a}from"./chunk-XYFI7FRW.js";import"./chunk-6CE2X4C7.js";import"./chunk-YKFVZVSI.js";import"./chunk-YDS7ONKN.js";import"./chunk-7QDGFIU3.js";import"./chunk-HSU2QHKC.js";import"./chunk-BEEYUTTP.js";export{a as runGrant};
