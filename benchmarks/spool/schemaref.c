/* schemaref: what SQLite alone costs for Warden's own statements on Warden's schema
 * (records, orders, the index of records that refer to an order), with no parsing and
 * no application logic: per order, insert the record, ask whether other records refer
 * to the order, upsert the order row; 10,000 orders per transaction (one NDJSON file),
 * WAL, synchronous=FULL.
 *
 *   schemaref DATABASE MULTI [SKIP]
 *
 * MULTI 0: one row per statement; 1: 64 rows per statement (as wardend does for runs
 * of orders). SKIP (bits): 1 leaves out the order upsert, 2 the probe. Prints rows/s.
 * Keep the schema in step with Sources/WardenStore/Schema.swift. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
static double now(void){struct timespec ts;clock_gettime(CLOCK_MONOTONIC,&ts);return ts.tv_sec+ts.tv_nsec/1e9;}
#define N 64
int main(int argc,char**argv){
  int multi=atoi(argv[2]); int skip=argc>3?atoi(argv[3]):0; long rows=200000;
  sqlite3*db; sqlite3_open(argv[1],&db);
  sqlite3_exec(db,"PRAGMA journal_mode=WAL;PRAGMA synchronous=FULL;"
  "CREATE TABLE records (type TEXT NOT NULL,key TEXT NOT NULL,body TEXT NOT NULL,order_id TEXT,complaint_id TEXT,event_at INTEGER NOT NULL,received_at INTEGER NOT NULL,updated_at INTEGER NOT NULL,revision INTEGER NOT NULL DEFAULT 1,source TEXT NOT NULL,pending INTEGER NOT NULL DEFAULT 0,PRIMARY KEY(type,key)) WITHOUT ROWID;"
  "CREATE INDEX rc ON records(complaint_id) WHERE complaint_id IS NOT NULL;"
  "CREATE INDEX rp ON records(pending) WHERE pending=1;"
  "CREATE INDEX ro ON records(order_id,type) WHERE order_id IS NOT NULL AND type!='order';"
  "CREATE TABLE orders (order_id TEXT PRIMARY KEY NOT NULL,category TEXT NOT NULL,module TEXT,shop TEXT,item TEXT,paid_fen INTEGER NOT NULL,paid_at INTEGER NOT NULL,ship_by INTEGER,shipped_at INTEGER,delivery_service TEXT,presale INTEGER) WITHOUT ROWID;",0,0,0);
  char sql[65536]; int n=multi?N:1;
  strcpy(sql,"INSERT INTO records (type,key,body,order_id,complaint_id,event_at,received_at,updated_at,source) VALUES ");
  for(int i=0;i<n;i++) strcat(sql,i?",(?,?,?,?,?,?,?,?,?)":"(?,?,?,?,?,?,?,?,?)");
  strcat(sql," ON CONFLICT(type,key) DO NOTHING RETURNING key");
  sqlite3_stmt*ins; if(sqlite3_prepare_v2(db,sql,-1,&ins,0)){puts(sqlite3_errmsg(db));return 1;}
  strcpy(sql,"INSERT INTO orders (order_id,category,module,shop,item,paid_fen,paid_at,ship_by,shipped_at,delivery_service,presale) VALUES ");
  for(int i=0;i<n;i++) strcat(sql,i?",(?,?,?,?,?,?,?,?,?,?,?)":"(?,?,?,?,?,?,?,?,?,?,?)");
  strcat(sql," ON CONFLICT(order_id) DO UPDATE SET category=excluded.category");
  sqlite3_stmt*ord; if(sqlite3_prepare_v2(db,sql,-1,&ord,0)){puts(sqlite3_errmsg(db));return 1;}
  sqlite3_stmt*probe; sqlite3_prepare_v2(db,"SELECT EXISTS (SELECT 1 FROM records WHERE order_id = ? AND type != 'order')",-1,&probe,0);
  char key[N][64], body[N][256];
  double t=now();
  for(long i=0;i<rows;i+=n){
    if(i%10000<n) sqlite3_exec(db,"BEGIN",0,0,0);
    for(int k=0;k<n;k++){
      snprintf(key[k],64,"ref-%ld",i+k);
      snprintf(body[k],256,"{\"type\":\"order\",\"order_id\":\"ref-%ld\",\"category\":\"stand-mixer\",\"shop\":\"bench\",\"paid_amount\":\"129.90\",\"paid_at\":\"2023-04-01 10:00:00\",\"delivery_service\":\"merchant\"}",i+k);
      int b=k*9;
      sqlite3_bind_text(ins,b+1,"order",-1,SQLITE_STATIC); sqlite3_bind_text(ins,b+2,key[k],-1,SQLITE_STATIC);
      sqlite3_bind_text(ins,b+3,body[k],-1,SQLITE_STATIC); sqlite3_bind_text(ins,b+4,key[k],-1,SQLITE_STATIC);
      sqlite3_bind_null(ins,b+5); sqlite3_bind_int64(ins,b+6,1680000000000); sqlite3_bind_int64(ins,b+7,1700000000000);
      sqlite3_bind_int64(ins,b+8,1700000000000); sqlite3_bind_text(ins,b+9,"spool:x.ndjson",-1,SQLITE_STATIC);
      b=k*11;
      sqlite3_bind_text(ord,b+1,key[k],-1,SQLITE_STATIC); sqlite3_bind_text(ord,b+2,"stand-mixer",-1,SQLITE_STATIC);
      sqlite3_bind_text(ord,b+3,"kitchen-appliances",-1,SQLITE_STATIC); sqlite3_bind_text(ord,b+4,"bench",-1,SQLITE_STATIC);
      sqlite3_bind_null(ord,b+5); sqlite3_bind_int64(ord,b+6,12990); sqlite3_bind_int64(ord,b+7,1680000000000);
      sqlite3_bind_null(ord,b+8); sqlite3_bind_null(ord,b+9); sqlite3_bind_text(ord,b+10,"merchant",-1,SQLITE_STATIC); sqlite3_bind_null(ord,b+11);
      if(!multi){ while(sqlite3_step(ins)==SQLITE_ROW); sqlite3_reset(ins);
        if(!(skip&2)){sqlite3_bind_text(probe,1,key[k],-1,SQLITE_STATIC); sqlite3_step(probe); sqlite3_reset(probe);}
        if(!(skip&1)){sqlite3_step(ord);} sqlite3_reset(ord);}
    }
    if(multi){ while(sqlite3_step(ins)==SQLITE_ROW); sqlite3_reset(ins);
      for(int k=0;k<n;k++){sqlite3_bind_text(probe,1,key[k],-1,SQLITE_STATIC); sqlite3_step(probe); sqlite3_reset(probe);}
      sqlite3_step(ord); sqlite3_reset(ord);}
    if((i+n)%10000<n || i+n>=rows) sqlite3_exec(db,"COMMIT",0,0,0);
  }
  printf("multi=%d skip=%d %.0f rows/s\n",multi,skip,rows/(now()-t));
}
