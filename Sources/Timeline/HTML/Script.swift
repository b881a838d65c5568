// The page's one script: it opens a linked event's details, and it makes
// the drawing fit the window, zoom and pan. It reads everything it draws from
// the static SVG (times in `data-` attributes, text already in the marks),
// so no log text is ever inside the script, and the page without script is
// the same drawing at its first zoom. Geometry and the tick ladder come from
// `ScriptSettings`, the numbers Layout.swift and Ticks.swift use, so the two
// layouts cannot drift apart.

import FoundationEssentials
import LockscanKit

/// The numbers the script needs, as JSON in the drawing's `data-settings`.
/// Times are seconds from the axis start (`start`, epoch seconds), the
/// unit the marks' `data-t`/`data-e`/`data-l` use.
enum ScriptSettings {
    static func json(_ axis: TimeAxis, _ layout: TimelineLayout, clock: PageClock) -> String {
        typealias L = TimelineLayout
        func n(_ v: Double) -> String { v.isFinite ? String(v) : "0" }
        var fields: [(String, String)] = [
            ("start", n(axis.start)), ("span", n(axis.end - axis.start)), ("minSpan", n(1e-3)),
            ("plotLeft", n(L.plotLeft)), ("rightMargin", n(L.totalWidth - L.plotLeft - L.plotWidth)),
            ("axisHeight", n(layout.axisHeight)), ("rowHeight", n(L.rowHeight)), ("lanePadding", n(L.lanePadding)),
            ("minLaneHeight", n(L.minimumLaneHeight)), ("footerHeight", n(L.footerHeight)),
            ("markRadius", n(LanePacker.markRadius)), ("labelGap", n(LanePacker.labelGap)), ("maxRows", String(LanePacker.maxRows)),
            ("steps", "[" + TimeTicks.steps.map(n).joined(separator: ",") + "]"),
        ]
        if let zone = clock.zone {
            // The zone's offsets over the whole axis (the view never leaves it), as [seconds from start, offset].
            let table = zone.offsets(from: axis.start, to: axis.end).map { "[\(n(max(0, $0.from - axis.start))),\($0.offset)]" }
            fields.append(("zone", "[" + table.joined(separator: ",") + "]"))
            fields.append(("zoneName", jsonString(zone.name)))
        }
        return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }

    /// A JSON string literal; the zone name is the user's, so it is escaped
    /// like any text, and `/` as `\/` so no `</script>` can end the script.
    static func jsonString(_ s: String) -> String {
        JSONValue.string(s).compactText.replacing("/", with: "\\/")
    }
}

enum TimelineScript {
    /// Following a link to an event (from its mark, or a cluster) opens its
    /// details, so one click shows the evidence. Then the drawing: laid out
    /// again at the window's width; wheel or pinch zooms about the pointer,
    /// dragging pans, the buttons and keys + − 0 ← → do the same.
    static let source = #"""
    function openTarget(){var id=decodeURIComponent(location.hash.slice(1));var el=id&&document.getElementById(id);if(!el)return;var d=el.querySelector('details');if(d)d.open=true;}
    window.addEventListener('hashchange',openTarget);openTarget();
    (function(){
    'use strict';
    var svg=document.querySelector('svg.timeline');
    if(!svg||!svg.getAttribute('data-settings'))return;
    var S=JSON.parse(svg.getAttribute('data-settings')),NS=svg.namespaceURI,box=svg.parentNode;
    var controls=document.querySelector('.controls'),readout=document.querySelector('.view-range');
    function all(root,sel){return Array.prototype.slice.call(root.querySelectorAll(sel));}
    function num(el,name){return parseFloat(el.getAttribute(name));}
    var bgs=all(svg,'.lane-bg'),bands=all(svg,'a.cluster'),ticksG=svg.querySelector('g.ticks');
    var lanes=all(svg,'g.lane').map(function(g){
      return {g:g,warn:g.querySelector('.lane-warning'),id:g.querySelector('.lane-id'),note:g.querySelector('.unplaced-note text'),
        breaks:all(g,'g.clock-break').map(function(b){return {el:b,t0:num(b,'data-t0'),t1:num(b,'data-t1'),shape:b.querySelector('rect,line')};}),
        marks:all(g,'a.ev[data-t]').map(function(a){
          return {el:a,label:a.querySelector('.ev-label'),iv:a.querySelector('.interval'),cap:a.querySelector('.cap'),t:num(a,'data-t'),e:num(a,'data-e'),l:num(a,'data-l'),
                  p:num(a,'data-p'),w:0};
        })};
    });
    // Each label's real width, measured once (the text never changes); all
    // reads after all writes, so the browser lays the page out once, not once a label.
    lanes.forEach(function(lane){lane.marks.forEach(function(m){m.label.removeAttribute('visibility');});});
    lanes.forEach(function(lane){lane.marks.forEach(function(m){m.w=Math.ceil(m.label.getComputedTextLength());});});
    var v0=0,v1=S.span,W=0,left=0,plotW=1,narrow=false;
    function x(t){return left+(t-v0)/(v1-v0)*plotW;}
    function r1(v){return Math.round(v*10)/10;}
    function set(el,attrs){for(var k in attrs)el.setAttribute(k,attrs[k]);}

    // Greedy interval packing, the same as LanePacker (Lanes.swift): by
    // priority then time, each mark takes the first row where it and its
    // label fit, a new row while there are fewer than maxRows, else the
    // first row where the mark alone fits (label hidden), else shares one.
    function firstEnding(row,lo){var a=0,b=row.length;while(a<b){var m=(a+b)>>1;if(row[m][1]<=lo)a=m+1;else b=m;}return a;}
    function free(row,s){var i=firstEnding(row,s[0]);return i===row.length||row[i][0]>=s[1];}
    function take(row,s){row.splice(firstEnding(row,s[0]),0,s);}
    function extent(it,side,L,R){
      var lo=Math.min(it.xe,it.x-S.markRadius),hi=Math.max(it.xl,it.x+S.markRadius),g=S.markRadius+S.labelGap;
      if(side===0)return [lo,hi];
      if(side===1){var s=it.x+g,e=s+it.w;return s>=L&&e<=R?[lo,Math.max(hi,e)]:null;}
      var e2=it.x-g,s2=e2-it.w;return s2>=L&&e2<=R?[Math.min(lo,s2),hi]:null;
    }
    function pack(items,L,R){
      var order=items.slice().sort(function(a,b){return b.p-a.p||a.xe-b.xe||a.i-b.i;}),rows=[],shared=0;
      order.forEach(function(it){
        var cands=(it.w>0?[1,2]:[0]).map(function(s){return [s,extent(it,s,L,R)];}).filter(function(c){return c[1];});
        it.side=0;it.over=false;
        function fit(cs){for(var r=0;r<rows.length;r++)for(var c=0;c<cs.length;c++)if(free(rows[r],cs[c][1])){take(rows[r],cs[c][1]);it.row=r;it.side=cs[c][0];return true;}return false;}
        if(fit(cands))return;
        if(rows.length<S.maxRows){var c=cands[0]||[0,extent(it,0)];rows.push([c[1]]);it.row=rows.length-1;it.side=c[0];return;}
        if(fit([[0,extent(it,0)]]))return;
        it.row=shared%Math.max(1,rows.length);it.over=true;shared++;
      });
      return Math.max(1,rows.length);
    }

    // Time in words, as the Swift side writes it (Ticks.swift, DisplayZone.swift).
    function pad(n,w){n=String(n);while(n.length<w)n='0'+n;return n;}
    function offsetAt(t){var z=S.zone,o=0;if(!z)return 0;for(var i=0;i<z.length&&z[i][0]<=t;i++)o=z[i][1];return o;}
    function offsetText(o){var a=Math.abs(o);return (o<0?'-':'+')+pad(Math.floor(a/3600),2)+':'+pad(Math.floor(a%3600/60),2);}
    function label(t,step,off){
      var d=step>=1?0:Math.ceil(-Math.log10(step)-1e-9),sc=Math.pow(10,d),units=Math.round((S.start+t+off)*sc),secs=Math.floor(units/sc);
      var iso=new Date(secs*1000).toISOString(),date=iso.slice(0,10);
      if(step>=86400)return [date,date];if(step>=60)return [iso.slice(11,16),date];
      return [iso.slice(11,19)+(d>0?'.'+pad(units-secs*sc,d):''),date];
    }
    function when(t,digits,off){var sc=Math.pow(10,digits),units=Math.round((S.start+t+off)*sc),secs=Math.floor(units/sc);
      var iso=new Date(secs*1000).toISOString();return iso.slice(0,10)+' '+iso.slice(11,19)+(digits>0?'.'+pad(units-secs*sc,digits):'');}
    function duration(s){
      if(s<1e-3)return +(s*1e6).toPrecision(3)+' µs';if(s<1)return +(s*1e3).toPrecision(3)+' ms';if(s<60)return +s.toPrecision(3)+' s';
      var w=Math.round(s);if(w<3600)return Math.floor(w/60)+' min'+(w%60?' '+w%60+' s':'');
      if(w<86400)return Math.floor(w/3600)+' h'+(w%3600>=60?' '+Math.floor(w%3600/60)+' min':'');
      return Math.floor(w/86400)+' d'+(w%86400>=3600?' '+Math.floor(w%86400/3600)+' h':'');
    }
    function leftOut(over,hidden){var p=[];if(over)p.push(over+' marks overlap');if(hidden)p.push(hidden+' label'+(hidden===1?'':'s')+' hidden');
      return p.length?p.join(', ')+': zoom in or see the table':'';}

    function ticks(bottom){
      while(ticksG.firstChild)ticksG.removeChild(ticksG.firstChild);
      var span=v1-v0,max=Math.max(2,Math.floor(plotW/106)),need=span/max,step=null,day=86400;
      for(var i=0;i<S.steps.length;i++)if(S.steps[i]>=need){step=S.steps[i];break;}
      if(step===null)step=Math.ceil(need/(28*day))*28*day;
      var origin=step>=7*day&&step%(7*day)===0?4*day:0,a0=S.start+v0,a1=S.start+v1;
      var lastDay=null,lastLocal=null;
      function text(cls,tx,y,s){var el=document.createElementNS(NS,'text');set(el,{'class':cls,x:r1(tx),y:y});el.textContent=s;ticksG.appendChild(el);
        // Kept inside the drawing at its ends (the stylesheet centres ticks; a style beats it).
        var w=el.getComputedTextLength();if(tx-w/2<2){el.style.textAnchor='start';set(el,{x:2});}else if(tx+w/2>W-2){el.style.textAnchor='end';set(el,{x:W-2});}}
      for(var k=Math.ceil((a0-origin)/step);k<=Math.floor((a1-origin)/step);k++){
        var t=origin+k*step-S.start,tx=x(t),l=label(t,step,0);
        var g=document.createElementNS(NS,'line');set(g,{'class':'grid',x1:r1(tx),x2:r1(tx),y1:S.axisHeight-5,y2:r1(bottom)});ticksG.appendChild(g);
        text('tick',tx,15,l[0]);
        if(step<day&&l[1]!==lastDay)text('tick-date',tx,29,l[1]);lastDay=l[1];
        if(S.zone){var z=label(t,Math.min(step,43200),offsetAt(t));text('tick tick-local',tx,45,z[0]);if(z[1]!==lastLocal)text('tick-date tick-local',tx,59,z[1]);lastLocal=z[1];}
      }
    }

    function layout(){
      W=Math.max(300,box.clientWidth);narrow=W<760;left=narrow?8:S.plotLeft;plotW=W-left-(narrow?8:S.rightMargin);
      svg.setAttribute('class','timeline'+(narrow?' narrow':''));
      var L=left,R=left+plotW,top=S.axisHeight,g=S.markRadius+S.labelGap;
      lanes.forEach(function(lane,k){
        var items=[];
        lane.marks.forEach(function(m,i){
          var shown=m.l>=v0&&m.e<=v1;m.el.style.display=shown?'':'none';
          if(shown){m.i=i;m.x=x(m.t);m.xe=x(m.e);m.xl=x(m.l);items.push(m);}
        });
        var rows=pack(items,L,R),over=0,hidden=0,warn;
        items.forEach(function(m){if(m.over)over++;if(m.side===0&&m.w>0)hidden++;});
        warn=leftOut(over,hidden);lane.warn.textContent=warn;
        var header=narrow?(warn?32:20):0,height=Math.max(narrow?0:S.minLaneHeight,header+rows*S.rowHeight+2*S.lanePadding+(narrow&&lane.note?16:0));
        if(narrow){set(lane.id,{y:14});set(lane.warn,{y:28});}else{set(lane.id,{y:17});set(lane.warn,{y:73});}
        items.forEach(function(m){
          set(m.el,{transform:'translate('+r1(m.x)+','+r1(header+S.lanePadding+(m.row+0.5)*S.rowHeight)+')'});
          if(m.iv){set(m.iv,{x:r1(m.xe-m.x),width:r1(m.xl-m.xe)});set(m.cap,{d:'M'+r1(m.xe-m.x)+' -4v8M'+r1(m.xl-m.x)+' -4v8'});}
          if(m.side===0)m.label.setAttribute('visibility','hidden');else m.label.removeAttribute('visibility');
          set(m.label,m.side===2?{x:-g,'text-anchor':'end'}:{x:g,'text-anchor':'start'});
        });
        if(lane.note)set(lane.note,{x:r1(L+8),y:r1(height-6)});
        lane.breaks.forEach(function(b){
          var x0=Math.min(Math.max(x(b.t0),L),R),x1=Math.min(Math.max(x(b.t1),L),R);
          b.el.style.display=b.t1<v0||b.t0>v1?'none':'';
          if(b.shape.tagName==='rect')set(b.shape,{x:r1(x0),width:r1(Math.max(1,x1-x0)),height:r1(height)});else set(b.shape,{x1:r1(x0),x2:r1(x0),y2:r1(height)});
        });
        set(lane.g,{transform:'translate(0,'+r1(top)+')'});
        if(bgs[k])set(bgs[k],{y:r1(top),height:r1(height),width:W});
        top+=height;
      });
      var last=null;
      bands.forEach(function(b){
        var x0=x(num(b,'data-t0')),x1=x(num(b,'data-t1'));
        if(x1-x0<6){var mid=(x0+x1)/2;x0=mid-3;x1=mid+3;}
        var out=x1<L||x0>R;b.style.display=out?'none':'';if(out)return;
        x0=Math.max(x0,L);x1=Math.min(x1,R);
        var line=last&&Math.abs((x0+x1)/2-last.x)<30?1-last.line:0;last={x:(x0+x1)/2,line:line};
        set(b.querySelector('rect'),{x:r1(x0),y:S.axisHeight,width:r1(x1-x0),height:r1(top-S.axisHeight)});
        set(b.querySelector('text'),{x:r1((x0+x1)/2),y:r1(top+15+line*13)});
      });
      var axisLine=svg.querySelector('.axis-line');if(axisLine)set(axisLine,{x1:L,x2:r1(R)});
      set(svg.querySelector('rect.plot-clip'),{x:L,width:r1(plotW)});
      ticks(top);
      var h=top+S.footerHeight;set(svg,{width:W,height:r1(h),viewBox:'0 0 '+W+' '+r1(h)});
      if(readout){
        var span=v1-v0,digits=span<10?3:0,s='showing '+when(v0,digits,0)+' – '+when(v1,digits,0)+' UTC';
        if(S.zone)s+=' = '+when(v0,digits,offsetAt(v0))+' – '+when(v1,digits,offsetAt(v1))+' '+offsetText(offsetAt(v0))+(S.zoneName===offsetText(offsetAt(v0))?'':' '+S.zoneName);
        readout.textContent=s+' ('+duration(span)+(span<S.span?' of '+duration(S.span):', all of it')+')';
      }
    }

    function clampView(){var span=Math.min(Math.max(v1-v0,S.minSpan),S.span);if(v0<0)v0=0;if(v0+span>S.span)v0=S.span-span;v1=v0+span;}
    function zoom(factor,t){var span=(v1-v0)*factor,f=(t-v0)/(v1-v0);span=Math.min(Math.max(span,S.minSpan),S.span);v0=t-f*span;v1=v0+span;clampView();layout();}
    function pan(dt){v0+=dt;v1+=dt;clampView();layout();}
    function fit(){v0=0;v1=S.span;layout();}
    function timeAt(clientX){var r=svg.getBoundingClientRect();return v0+((clientX-r.left)*(W/r.width)-left)/plotW*(v1-v0);}
    function centre(){return (v0+v1)/2;}

    svg.addEventListener('wheel',function(ev){
      ev.preventDefault();
      var unit=ev.deltaMode===1?33:ev.deltaMode===2?400:1;
      if(Math.abs(ev.deltaX)>Math.abs(ev.deltaY))pan(ev.deltaX*unit/plotW*(v1-v0));
      else zoom(Math.exp(ev.deltaY*unit*0.002),timeAt(ev.clientX));
    },{passive:false});
    var pointers={},drag=null,moved=false;
    svg.addEventListener('pointerdown',function(ev){
      pointers[ev.pointerId]=ev.clientX;moved=false;
      drag={x:ev.clientX,v0:v0,v1:v1,dist:null};
    });
    svg.addEventListener('pointermove',function(ev){
      if(!(ev.pointerId in pointers)||!drag)return;
      pointers[ev.pointerId]=ev.clientX;
      var ids=Object.keys(pointers);
      if(ids.length===2){
        var d=Math.abs(pointers[ids[0]]-pointers[ids[1]]);
        if(drag.dist===null){drag.dist=d;return;}
        if(d>0&&drag.dist>0){zoom(drag.dist/d,timeAt((pointers[ids[0]]+pointers[ids[1]])/2));drag.dist=d;moved=true;}
        return;
      }
      var dx=ev.clientX-drag.x;
      if(Math.abs(dx)>3){moved=true;svg.setPointerCapture&&svg.setPointerCapture(ev.pointerId);}
      if(moved){var r=svg.getBoundingClientRect(),dt=-dx*(W/r.width)/plotW*(drag.v1-drag.v0);v0=drag.v0+dt;v1=drag.v1+dt;clampView();layout();}
    });
    function up(ev){delete pointers[ev.pointerId];if(!Object.keys(pointers).length)drag=null;}
    svg.addEventListener('pointerup',up);svg.addEventListener('pointercancel',up);
    // A drag that ends on a mark is a pan, not a click on its link.
    svg.addEventListener('click',function(ev){if(moved){ev.preventDefault();moved=false;}},true);
    document.addEventListener('keydown',function(ev){
      var tag=(ev.target&&ev.target.tagName)||'';if(/INPUT|TEXTAREA|SELECT/.test(tag)||ev.ctrlKey||ev.metaKey||ev.altKey)return;
      var step=(v1-v0)/10;
      if(ev.key==='+'||ev.key==='=')zoom(1/1.5,centre());
      else if(ev.key==='-'||ev.key==='_')zoom(1.5,centre());
      else if(ev.key==='0')fit();
      else if(ev.key==='ArrowLeft')pan(-step);
      else if(ev.key==='ArrowRight')pan(step);
      else return;
      ev.preventDefault();
    });
    if(controls){
      controls.hidden=false;
      all(controls,'button').forEach(function(b){b.addEventListener('click',function(){
        var a=b.getAttribute('data-zoom');if(a==='in')zoom(1/1.5,centre());else if(a==='out')zoom(1.5,centre());else fit();
      });});
    }
    window.addEventListener('resize',layout);
    layout();
    })();
    """#
}
