import{createRequire as __elevateRequire}from'node:module';const require=__elevateRequire(import.meta.url);
import{a}from"./chunk-XTVVMU2Q.js";import"./chunk-NPES6XVJ.js";import"./chunk-POEI6IAL.js";import"./chunk-YDS7ONKN.js";import"./chunk-BSIRVOQ2.js";import"./chunk-HSU2QHKC.js";import"./chunk-BEEYUTTP.js";export{a as runGrant};
