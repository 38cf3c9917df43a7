import{createRequire as __elevateRequire}from'node:module';const require=__elevateRequire(import.meta.url);
import{a}from"./chunk-N2TBL4LT.js";import"./chunk-RHQO4HNG.js";import"./chunk-AK3ZUJPL.js";import"./chunk-HXQD2JXB.js";import"./chunk-7QDGFIU3.js";import"./chunk-HSU2QHKC.js";import"./chunk-BEEYUTTP.js";export{a as runGrant};
