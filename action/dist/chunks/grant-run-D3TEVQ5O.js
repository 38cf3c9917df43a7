import{createRequire as __elevateRequire}from'node:module';const require=__elevateRequire(import.meta.url);
import{a}from"./chunk-5PAFJ477.js";import"./chunk-H3HSALYW.js";import"./chunk-VDLYV6LU.js";import"./chunk-HXQD2JXB.js";import"./chunk-7QDGFIU3.js";import"./chunk-HSU2QHKC.js";import"./chunk-BEEYUTTP.js";export{a as runGrant};
